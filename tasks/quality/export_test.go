package quality

// BuiltinSuiteText exposes a checked-in suite's text to the external tests.
func BuiltinSuiteText(recordType string) (string, error) {
	b, err := builtin.ReadFile("suites/" + recordType + ".json")
	return string(b), err
}
