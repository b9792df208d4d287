package ipmi

// Fail ends the session with err, as a lost BMC does, without a Close
// Session exchange: for tests of what a failed session answers.
func (s *Session) Fail(err error) { s.fail(err) }
