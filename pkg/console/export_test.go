package console

// SetCloseHook makes Close call f right after it finds the console not
// started; the returned function removes it.
func SetCloseHook(f func(*Console)) (restore func()) {
	testHookCloseUnstarted = f
	return func() { testHookCloseUnstarted = nil }
}
