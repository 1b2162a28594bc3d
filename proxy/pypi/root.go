package pypi

import (
	"bytes"
	"encoding/json"
	"html"
	"strings"
)

// ParseRootHTML returns the project names (anchor texts) of a PEP 503 root
// index ("/simple/"). pip never reads it; moat may pass it through.
func ParseRootHTML(body []byte) ([]string, error) {
	t := newTokenizer(body)
	var names []string
	sawTag := false
	for {
		tg, ok, err := t.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		sawTag = true
		switch tg.name {
		case "a":
			text, err := t.textUntilEnd("a")
			if err != nil {
				return nil, err
			}
			if text != "" {
				names = append(names, text)
			}
		case "meta":
			if name, _ := tg.attr("name"); strings.EqualFold(name, "pypi:repository-version") {
				v, _ := tg.attr("content")
				if err := checkAPIVersion(strings.TrimSpace(v)); err != nil {
					return nil, err
				}
			}
		case "title", "script", "style", "textarea":
			if _, err := t.textUntilEnd(tg.name); err != nil {
				return nil, err
			}
		}
	}
	if !sawTag && len(bytes.TrimSpace(body)) > 0 {
		return nil, malformed("not an HTML page")
	}
	return names, nil
}

// ParseRootJSON returns the project names of a PEP 691 root index.
func ParseRootJSON(body []byte) ([]string, error) {
	var doc struct {
		Meta *struct {
			APIVersion string `json:"api-version"`
		} `json:"meta"`
		Projects []struct {
			Name string `json:"name"`
		} `json:"projects"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Meta == nil || doc.Projects == nil {
		return nil, malformed("not a PEP 691 root index")
	}
	if err := checkAPIVersion(doc.Meta.APIVersion); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(doc.Projects))
	for _, p := range doc.Projects {
		names = append(names, p.Name)
	}
	return names, nil
}

// RenderRootHTML renders a PEP 503 root index linking each project to
// "<normalised name>/".
func RenderRootHTML(names []string) []byte {
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"" + APIVersion + "\">\n    <title>Simple index</title>\n  </head>\n  <body>\n")
	for _, n := range names {
		b.WriteString(`    <a href="` + html.EscapeString(NormalizeName(n)) + `/">` + html.EscapeString(n) + "</a><br />\n")
	}
	b.WriteString("  </body>\n</html>\n")
	return b.Bytes()
}

// RenderRootJSON renders a PEP 691 root index.
func RenderRootJSON(names []string) []byte {
	type project struct {
		Name string `json:"name"`
	}
	doc := struct {
		Meta struct {
			APIVersion string `json:"api-version"`
		} `json:"meta"`
		Projects []project `json:"projects"`
	}{Projects: make([]project, len(names))}
	doc.Meta.APIVersion = APIVersion
	for i, n := range names {
		doc.Projects[i].Name = n
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(doc)
	return b.Bytes()
}
