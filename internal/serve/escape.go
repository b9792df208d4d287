package serve

// escFilter recognises the session escape, conserver's style: a lead
// control character (^E) and a second character (c), then a command key,
// anywhere in the input (not only at the start of a line, unlike
// OpenSSH's ~, which it must not collide with). The lead followed by
// anything but the second character is sent as typed; the state lives in
// the filter, so a sequence split across reads works. It is pure: the
// attachment runs the commands.
type escFilter struct {
	lead, second byte // lead 0: no escapes
	st           int  // 0: plain, 1: after lead, 2: after lead+second
}

// Feed takes one key and returns the bytes to send (nil: none yet, or an
// escape under way) or, after a complete escape, its command key.
func (f *escFilter) Feed(b byte) (send []byte, cmd byte, isCmd bool) {
	if f.lead == 0 {
		return []byte{b}, 0, false
	}
	switch f.st {
	case 1:
		switch b {
		case f.second:
			f.st = 2
			return nil, 0, false
		case f.lead:
			return []byte{f.lead}, 0, false // the first lead goes, the second may start an escape
		}
		f.st = 0
		return []byte{f.lead, b}, 0, false
	case 2:
		f.st = 0
		return nil, b, true
	}
	if b == f.lead {
		f.st = 1
		return nil, 0, false
	}
	return []byte{b}, 0, false
}
