package gui

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
)

// MaskedValue is how the consumer replaces a decrypted secret in what it
// logs; the GUI shows such values as masked rather than as text.
const MaskedValue = "*****"

// openDepth: containers nested deeper than this start collapsed.
const openDepth = 4

// openSize: containers with more members than this start collapsed.
const openSize = 40

// Node is one JSON value prepared for display: a container with its
// members in document order, or a scalar with its literal text.
type Node struct {
	// Label names the value within its container: the member's key in an
	// object, the position in an array; "" for the top-level value.
	Label string
	// InArray says the value is an array element (Label is its position).
	InArray bool
	// Top marks the top-level value.
	Top bool
	// Kind is object, array, string, number, bool or null.
	Kind string
	// Text is a scalar's JSON text (strings without their quotes).
	Text string
	// Masked marks a string that holds a masked secret.
	Masked bool
	// Children of an object or array.
	Children []Node
	// Open says whether a container starts expanded.
	Open bool
}

// Container says whether n is an object or an array.
func (n Node) Container() bool { return n.Kind == "object" || n.Kind == "array" }

// ParseTree reads one JSON value, keeping the order of object members.
func ParseTree(raw []byte) (Node, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	n, err := parseValue(d, 0)
	if err != nil {
		return Node{}, err
	}
	if _, err := d.Token(); err != io.EOF {
		return Node{}, errors.New("json: data after the top-level value")
	}
	n.Top = true
	return n, nil
}

func parseValue(d *json.Decoder, depth int) (Node, error) {
	tok, err := d.Token()
	if err != nil {
		return Node{}, err
	}
	var n Node
	switch v := tok.(type) {
	case json.Delim:
		return parseContainer(d, v, depth)
	case string:
		n.Kind, n.Text, n.Masked = "string", v, v == MaskedValue
	case json.Number:
		n.Kind, n.Text = "number", v.String()
	case bool:
		n.Kind, n.Text = "bool", strconv.FormatBool(v)
	case nil:
		n.Kind, n.Text = "null", "null"
	}
	return n, nil
}

func parseContainer(d *json.Decoder, open json.Delim, depth int) (Node, error) {
	n := Node{Kind: "array", Children: []Node{}}
	if open == '{' {
		n.Kind = "object"
	}
	for i := 0; d.More(); i++ {
		key := ""
		if n.Kind == "object" {
			tok, err := d.Token()
			if err != nil {
				return Node{}, err
			}
			key, _ = tok.(string)
		}
		child, err := parseValue(d, depth+1)
		if err != nil {
			return Node{}, err
		}
		child.Label, child.InArray = key, n.Kind == "array"
		if child.InArray {
			child.Label = strconv.Itoa(i)
		}
		n.Children = append(n.Children, child)
	}
	if _, err := d.Token(); err != nil { // the closing delimiter
		return Node{}, err
	}
	n.Open = depth < openDepth && len(n.Children) <= openSize
	return n, nil
}

// PrettyJSON indents a JSON text for the raw view; text that is not JSON
// is returned as it is.
func PrettyJSON(raw []byte) string {
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return string(raw)
	}
	return b.String()
}
