package config

import (
	"reflect"
	"strings"
)

// Keys lists every key the configuration file may hold, as dotted paths in
// file order; the name of a map entry (a virtual host, an exchange) is
// written <vhost> or <exchange>. Load accepts exactly these keys.
func Keys() []string {
	return keysOf(reflect.TypeOf(Config{}), "")
}

// mapEntryNames names the entries of the file's maps in Keys.
var mapEntryNames = map[string]string{
	"virtual_hosts": "<vhost>",
	"exchanges":     "<exchange>",
}

func keysOf(t reflect.Type, prefix string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		key := join(prefix, tag)
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct:
			out = append(out, keysOf(ft, key)...)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			entry := join(key, mapEntryNames[tag])
			out = append(out, entry)
			out = append(out, keysOf(ft.Elem(), entry)...)
		default:
			out = append(out, key)
		}
	}
	return out
}
