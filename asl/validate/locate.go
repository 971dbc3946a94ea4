package validate

import "strings"

// Locate returns the 1-based line and column where the value a problem's
// Pointer designates starts in data, so a command can print
// "file:line:col: ...". For a pointer into a missing member it returns the
// position of the deepest existing ancestor; ok is false when data is not
// JSON.
func Locate(data []byte, pointer string) (line, col int, ok bool) {
	root, err := parseTree(data)
	if err != nil {
		if se, isSyntax := err.(*syntaxError); isSyntax && pointer == "" {
			line, col = lineCol(data, se.off)
			return line, col, true
		}
		return 0, 0, false
	}
	if pointer != "" && !strings.HasPrefix(pointer, "/") {
		return 0, 0, false
	}
	line, col = lineCol(data, nodeAt(root, pointer).off)
	return line, col, true
}
