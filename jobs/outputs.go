package jobs

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// A Field describes one entry of a job's report data (its outputs).
type Field struct {
	Name        string
	Type        FieldType
	Required    bool
	Description string
	// Fields describes an object's entries, when declared.
	Fields []Field
	// Items describes an array's elements, when declared.
	Items *Field
	Line  int
	Col   int
}

// FieldType is the JSON type of an output field.
type FieldType string

const (
	TypeString  FieldType = "string"
	TypeNumber  FieldType = "number"
	TypeInteger FieldType = "integer"
	TypeBoolean FieldType = "boolean"
	TypeObject  FieldType = "object"
	TypeArray   FieldType = "array"
	TypeAny     FieldType = "any"
)

var fieldTypes = []string{"string", "number", "integer", "boolean", "object", "array", "any"}

var fieldNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// maxFieldDepth bounds nested output schemas (and the decoder's recursion).
const maxFieldDepth = 16

// fields parses an outputs mapping: name → type, or name → {type, required,
// description, fields, items}.
func (d *decoder) fields(n *yaml.Node, what string, depth int) []Field {
	if depth > maxFieldDepth {
		d.add(n, "%s: nested more than %d levels deep", what, maxFieldDepth)
		return nil
	}
	var out []Field
	for _, e := range d.entries(n, what) {
		f := Field{Name: e.key.Value, Type: TypeAny, Line: e.key.Line, Col: e.key.Column}
		if !fieldNameRE.MatchString(f.Name) {
			d.add(e.key, "%s: field %q: a field name holds letters, digits and '_' and does not start with a digit", what, f.Name)
		}
		d.field(&f, e.val, what+"."+f.Name, depth)
		out = append(out, f)
	}
	return out
}

func (d *decoder) field(f *Field, n *yaml.Node, what string, depth int) {
	n = d.resolve(n)
	if n.Kind == yaml.ScalarNode {
		f.Type = d.fieldType(n, what)
		return
	}
	m := d.mapping(n, what, "type", "required", "description", "fields", "items")
	if v, ok := m["type"]; ok {
		f.Type = d.fieldType(v.val, what)
	}
	if v, ok := m["required"]; ok {
		f.Required, _ = d.boolean(v.val, what+" required")
	}
	if v, ok := m["description"]; ok {
		f.Description, _ = d.str(v.val, what+" description")
	}
	if v, ok := m["fields"]; ok {
		if f.Type != TypeObject {
			d.add(v.key, "%s: fields are only for type object", what)
		}
		f.Fields = d.fields(v.val, what, depth+1)
	}
	if v, ok := m["items"]; ok {
		if f.Type != TypeArray {
			d.add(v.key, "%s: items are only for type array", what)
		}
		item := Field{Name: "items", Type: TypeAny, Line: v.key.Line, Col: v.key.Column}
		if depth+1 > maxFieldDepth {
			d.add(v.val, "%s: nested more than %d levels deep", what, maxFieldDepth)
		} else {
			d.field(&item, v.val, what+"[]", depth+1)
		}
		f.Items = &item
	}
}

func (d *decoder) fieldType(n *yaml.Node, what string) FieldType {
	s, ok := d.str(n, what+" type")
	if !ok {
		return TypeAny
	}
	if !contains(fieldTypes, s) {
		d.add(n, "%s: type must be one of %s, found %q%s", what, strings.Join(fieldTypes, ", "), s, DidYouMean(s, fieldTypes))
		return TypeAny
	}
	return FieldType(s)
}

// CheckOutputs checks a report's data object against declared outputs and
// returns one message per mismatch ("volume_mm3: want number, found string"),
// sorted. Undeclared fields are allowed: outputs declare what callers may rely on.
func CheckOutputs(outputs []Field, data map[string]any) []string {
	var msgs []string
	checkObject(outputs, data, "", &msgs)
	sort.Strings(msgs)
	return msgs
}

func checkObject(fields []Field, data map[string]any, prefix string, msgs *[]string) {
	for _, f := range fields {
		v, ok := data[f.Name]
		name := prefix + f.Name
		if !ok || v == nil {
			if f.Required {
				*msgs = append(*msgs, fmt.Sprintf("%s: required, missing", name))
			}
			continue
		}
		checkValue(f, v, name, msgs)
	}
}

func checkValue(f Field, v any, name string, msgs *[]string) {
	if got := jsonType(v); !typeAccepts(f.Type, got, v) {
		*msgs = append(*msgs, fmt.Sprintf("%s: want %s, found %s", name, f.Type, got))
		return
	}
	switch x := v.(type) {
	case map[string]any:
		checkObject(f.Fields, x, name+".", msgs)
	case []any:
		if f.Items != nil {
			for i, e := range x {
				checkValue(*f.Items, e, fmt.Sprintf("%s[%d]", name, i), msgs)
			}
		}
	}
}

func typeAccepts(want FieldType, got string, v any) bool {
	switch want {
	case TypeAny:
		return true
	case TypeInteger:
		return got == "number" && isInteger(v)
	}
	return string(want) == got
}

func isInteger(v any) bool {
	switch x := v.(type) {
	case float64:
		return x == math.Trunc(x) && !math.IsInf(x, 0)
	case json.Number:
		_, err := x.Int64()
		return err == nil
	case int, int64:
		return true
	}
	return false
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64, json.Number, int, int64:
		return "number"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
