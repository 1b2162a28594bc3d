//go:build !linux

package cpuclass

import "errors"

func supported() bool { return false }

func gettid() int { return 0 }

func setIdle(int) error { return errors.ErrUnsupported }

func setNormal(int) error { return errors.ErrUnsupported }
