package features

import (
	"bytes"
	"crypto/sha256"
	"math/big"
	"regexp"
)

// Crypto-wallet addresses and publishing commands in literals.

// walletAddress reports whether a literal is a crypto-wallet address:
// Ethereum-style 0x + 40 hex digits (not a degenerate one such as the zero
// address), a Bitcoin bech32/bech32m address with a valid checksum, a
// Base58Check address (Bitcoin, Tron, Litecoin, …: version byte, 20-byte
// hash, valid double-SHA-256 checksum), or a Solana-style Base58 public key
// (32 bytes, mixed case and digits).
func walletAddress(s []byte) bool {
	s = bytes.TrimSpace(s)
	switch {
	case len(s) == 42 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		return ethAddress(s[2:])
	case len(s) >= 14 && len(s) <= 90 && (bytes.HasPrefix(s, []byte("bc1")) || bytes.HasPrefix(s, []byte("BC1"))):
		return bech32Valid(bytes.ToLower(s))
	case len(s) >= 26 && len(s) <= 44 && mixedAlnum(s):
		b, ok := base58Decode(s)
		if !ok {
			return false
		}
		if len(b) == 25 && len(s) <= 35 {
			sum := sha256.Sum256(b[:21])
			sum = sha256.Sum256(sum[:])
			return bytes.Equal(sum[:4], b[21:])
		}
		return len(b) == 32 && len(s) >= 32
	}
	return false
}

// ethAddress checks 40 hex digits for the variety of a real address:
// hashes of a key, not 0x00…00, 0x…dEaD or repeated patterns.
func ethAddress(h []byte) bool {
	if !isHexString(h) {
		return false
	}
	var seen [16]bool
	distinct, run, best := 0, 0, 0
	for i, c := range h {
		v := digitVal(c)
		if !seen[v] {
			seen[v] = true
			distinct++
		}
		if i > 0 && (c|0x20) == (h[i-1]|0x20) {
			run++
		} else {
			run = 1
		}
		best = max(best, run)
	}
	return distinct >= 8 && best < 6
}

func mixedAlnum(s []byte) bool {
	var upper, lower, digit bool
	for _, c := range s {
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= '0' && c <= '9':
			digit = true
		}
	}
	return upper && lower && digit
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var base58Index = func() [256]int8 {
	var t [256]int8
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(base58Alphabet); i++ {
		t[base58Alphabet[i]] = int8(i)
	}
	return t
}()

// base58Decode decodes Bitcoin-alphabet Base58 (short inputs only).
func base58Decode(s []byte) ([]byte, bool) {
	if len(s) == 0 || len(s) > 64 {
		return nil, false
	}
	for _, c := range s {
		if base58Index[c] < 0 {
			return nil, false
		}
	}
	x := new(big.Int)
	radix := big.NewInt(58)
	zeros := 0
	for i, c := range s {
		v := base58Index[c]
		if v == 0 && i == zeros {
			zeros++
		}
		x.Mul(x, radix)
		x.Add(x, big.NewInt(int64(v)))
	}
	return append(make([]byte, zeros), x.Bytes()...), true
}

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// bech32Valid checks a lower-case bech32 or bech32m string's checksum.
func bech32Valid(s []byte) bool {
	sep := bytes.LastIndexByte(s, '1')
	if sep < 1 || len(s)-sep-1 < 6 {
		return false
	}
	hrp, data := s[:sep], s[sep+1:]
	values := make([]byte, 0, len(hrp)*2+1+len(data))
	for _, c := range hrp {
		values = append(values, c>>5)
	}
	values = append(values, 0)
	for _, c := range hrp {
		values = append(values, c&31)
	}
	for _, c := range data {
		i := bytes.IndexByte([]byte(bech32Charset), c)
		if i < 0 {
			return false
		}
		values = append(values, byte(i))
	}
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := range 5 {
			if (top>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk == 1 || chk == 0x2bc830a3
}

// walletPatternRE matches regular expressions written to recognise wallet
// addresses: 0x + 40 hex, bc1…, legacy [13]… and Base58 classes (the
// alphabet without 0, I, O and l) with address-length quantifiers.
var walletPatternRE = regexp.MustCompile(`0x\[[0-9a-fA-F-]+\]\{40\}|` +
	`bc1[^{}]{0,48}\{[0-9]{1,2},?[0-9]{0,2}\}|` +
	`(?:A-HJ-NP-Z|a-km-z|1-9A-HJ)[^{}]{0,40}\{(?:2[5-9]|3[0-4])(?:,[0-9]{1,2})?\}|` +
	`\[13\][^{}]{0,48}\{2[5-9],[0-9]{2}\}`)

// walletPattern reports whether a literal is such a pattern.
func walletPattern(s []byte) bool {
	if len(s) < 10 || len(s) > 4096 || !bytes.Contains(s, []byte("{")) {
		return false
	}
	return walletPatternRE.Match(s)
}

// publishRE matches shell command lines that publish packages or read the
// publishing credentials: npm/yarn/pnpm publish and npm token at the start of
// a command, gh auth token, twine upload (also as python -m twine), and the
// registry's user and token
// endpoints.
var publishRE = regexp.MustCompile(`(?:^|[;&|(` + "`" + `]|\$\()\s*(?:sudo\s+)?(?:npx\s+)?(?:(?:npm|yarn|pnpm)(?:\.cmd)?\s+(?:[^;&|\s]+\s+)?(?:publish|token)\b|(?:python[0-9.]*\s+-m\s+)?twine\s+upload\b)|` +
	`\bgh\s+auth\s+token\b|/-/user/org\.couchdb\.user:|/-/npm/v1/tokens`)

// walletAndPublish emits wallet.address and publish.self for a literal
// (content s, lower-cased low).
func walletAndPublish(a emitter, s, low []byte, n int32) {
	if walletAddress(s) || walletPattern(s) {
		a.emit("wallet.address", n)
	}
	if (bytes.Contains(low, []byte("publish")) || bytes.Contains(low, []byte("token")) || bytes.Contains(low, []byte("upload")) ||
		bytes.Contains(low, []byte("/-/"))) && publishRE.Match(low) {
		a.emit("publish.self", n)
	}
}
