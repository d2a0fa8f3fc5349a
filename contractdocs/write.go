package contractdocs

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Write writes the site into dir as static files, creating directories as
// needed. The schema list is schemas/index.json there (a static server
// cannot answer /schemas itself).
func (s Site) Write(dir string) error {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("write the site: %w", err)
		}
		if err := os.WriteFile(p, s[n], 0o644); err != nil {
			return fmt.Errorf("write the site: %w", err)
		}
	}
	return nil
}
