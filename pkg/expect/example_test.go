package expect_test

import (
	"fmt"

	"github.com/ghmicons/ghmicons/pkg/expect"
)

func ExampleParse() {
	s, err := expect.Parse("boot.exp", []byte(`# cycle, wait for the prompt, log in
power cycle
expect /login: $/ timeout 10m
send "root\r"
expect /inet (?P<ip>[0-9.]+)/
print "ip=${ip}"
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, st := range s.Steps {
		fmt.Println(st.Where, st)
	}
	_, err = expect.Parse("bad.exp", []byte("expect /x/\nsend \"$1\"\n"))
	fmt.Println(err)
	// Output:
	// boot.exp:2 power cycle
	// boot.exp:3 expect /login: $/ timeout 10m0s
	// boot.exp:4 send "root\r"
	// boot.exp:5 expect /inet (?P<ip>[0-9.]+)/
	// boot.exp:6 print "ip=${ip}"
	// bad.exp:2: $1: the expect before has 0 group(s)
}
