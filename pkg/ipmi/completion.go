package ipmi

import "fmt"

// CompletionCode is the first byte of every IPMI response.
type CompletionCode uint8

// Generic completion codes (IPMI 2.0 table 5-2) and the command-specific ones
// this package branches on.
const (
	CCOK                  CompletionCode = 0x00
	CCNodeBusy            CompletionCode = 0xC0
	CCInvalidCommand      CompletionCode = 0xC1
	CCInvalidForLUN       CompletionCode = 0xC2
	CCTimeout             CompletionCode = 0xC3
	CCOutOfSpace          CompletionCode = 0xC4
	CCReservationInvalid  CompletionCode = 0xC5
	CCDataTruncated       CompletionCode = 0xC6
	CCDataLengthInvalid   CompletionCode = 0xC7
	CCDataLengthExceeded  CompletionCode = 0xC8
	CCParameterOutOfRange CompletionCode = 0xC9
	CCCannotReturnBytes   CompletionCode = 0xCA
	CCNotPresent          CompletionCode = 0xCB
	CCInvalidDataField    CompletionCode = 0xCC
	CCIllegalForSensor    CompletionCode = 0xCD
	CCCannotRespond       CompletionCode = 0xCE
	CCDuplicateRequest    CompletionCode = 0xCF
	CCSDRUpdateMode       CompletionCode = 0xD0
	CCFirmwareUpdateMode  CompletionCode = 0xD1
	CCInitInProgress      CompletionCode = 0xD2
	CCDestUnavailable     CompletionCode = 0xD3
	CCInsufficientPriv    CompletionCode = 0xD4
	CCNotSupportedNow     CompletionCode = 0xD5
	CCSubFunctionDisabled CompletionCode = 0xD6
	CCUnspecified         CompletionCode = 0xFF

	// Activate Payload (IPMI v2.0 §24.1).
	CCPayloadAlreadyActive    CompletionCode = 0x80
	CCPayloadDisabled         CompletionCode = 0x81
	CCPayloadLimitReached     CompletionCode = 0x82
	CCCannotActivateEncrypt   CompletionCode = 0x83
	CCCannotActivateNoEncrypt CompletionCode = 0x84
)

var genericCC = map[CompletionCode]string{
	CCOK:                  "command completed normally",
	CCNodeBusy:            "node busy",
	CCInvalidCommand:      "invalid command",
	CCInvalidForLUN:       "command invalid for given LUN",
	CCTimeout:             "timeout while processing command",
	CCOutOfSpace:          "out of space",
	CCReservationInvalid:  "reservation cancelled or invalid",
	CCDataTruncated:       "request data truncated",
	CCDataLengthInvalid:   "request data length invalid",
	CCDataLengthExceeded:  "request data field length limit exceeded",
	CCParameterOutOfRange: "parameter out of range",
	CCCannotReturnBytes:   "cannot return number of requested data bytes",
	CCNotPresent:          "requested sensor, data, or record not present",
	CCInvalidDataField:    "invalid data field in request",
	CCIllegalForSensor:    "command illegal for specified sensor or record type",
	CCCannotRespond:       "command response could not be provided",
	CCDuplicateRequest:    "cannot execute duplicated request",
	CCSDRUpdateMode:       "SDR repository in update mode",
	CCFirmwareUpdateMode:  "device in firmware update mode",
	CCInitInProgress:      "BMC initialization in progress",
	CCDestUnavailable:     "destination unavailable",
	CCInsufficientPriv:    "insufficient privilege level",
	CCNotSupportedNow:     "command not supported in present state",
	CCSubFunctionDisabled: "sub-function disabled or unavailable",
	CCUnspecified:         "unspecified error",
}

type cmdKey struct {
	netFn NetFn
	cmd   byte
}

// specificCC holds command-specific meanings of codes 0x80–0xBE.
var specificCC = map[cmdKey]map[CompletionCode]string{
	{NetFnApp, CmdActivatePayload}: {
		0x80: "payload already active on another session",
		0x81: "payload type is disabled",
		0x82: "payload activation limit reached",
		0x83: "cannot activate payload with encryption",
		0x84: "cannot activate payload without encryption",
	},
	{NetFnApp, CmdDeactivatePayload}: {
		0x80: "payload already deactivated",
		0x81: "payload type is disabled",
	},
	{NetFnApp, CmdSetSessionPrivilege}: {
		0x80: "requested level not available for this user",
		0x81: "requested level exceeds channel or user privilege limit",
		0x82: "cannot disable user level authentication",
	},
	{NetFnApp, CmdCloseSession}: {
		0x87: "invalid session ID",
		0x88: "invalid session handle",
	},
	{NetFnChassis, CmdSetBootOptions}: {
		0x80: "parameter not supported",
		0x81: "attempt to set 'set in progress' while not in 'set complete' state",
		0x82: "attempt to write read-only parameter",
	},
	{NetFnChassis, CmdGetBootOptions}: {
		0x80: "parameter not supported",
	},
}

// CompletionError is a non-zero completion code in a response.
type CompletionError struct {
	NetFn NetFn
	Cmd   byte
	Code  CompletionCode
}

// Meaning describes the code in the context of its command.
func (e *CompletionError) Meaning() string {
	if m, ok := specificCC[cmdKey{e.NetFn &^ 1, e.Cmd}][e.Code]; ok {
		return m
	}
	if m, ok := genericCC[e.Code]; ok {
		return m
	}
	if e.Code >= 0x01 && e.Code <= 0x7E {
		return "OEM completion code"
	}
	return "command-specific completion code"
}

func (e *CompletionError) Error() string {
	return fmt.Sprintf("ipmi: %s: completion code 0x%02x (%s)", CommandName(e.NetFn, e.Cmd), uint8(e.Code), e.Meaning())
}

// Unwrap gives the sentinel a code stands for in its command's context:
// ErrPayloadEncryption for Activate Payload's 0x83 and 0x84 (IPMI v2.0
// §24.1), so that callers can tell "incompatible" from other refusals
// however the error was wrapped; nil for every other code.
func (e *CompletionError) Unwrap() error {
	if e.NetFn&^1 == NetFnApp && e.Cmd == CmdActivatePayload &&
		(e.Code == CCCannotActivateEncrypt || e.Code == CCCannotActivateNoEncrypt) {
		return ErrPayloadEncryption
	}
	return nil
}
