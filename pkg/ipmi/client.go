package ipmi

import (
	"context"
	"errors"
	"fmt"
)

// Typed commands over an established session.

// GetDeviceID asks the BMC who it is.
func (s *Session) GetDeviceID(ctx context.Context) (DeviceID, error) {
	d, err := s.Do(ctx, NetFnApp, CmdGetDeviceID, nil)
	if err != nil {
		return DeviceID{}, err
	}
	return ParseDeviceID(d)
}

// ChassisStatus reads the power state.
func (s *Session) ChassisStatus(ctx context.Context) (ChassisStatus, error) {
	d, err := s.Do(ctx, NetFnChassis, CmdGetChassisStatus, nil)
	if err != nil {
		return ChassisStatus{}, err
	}
	return ParseChassisStatus(d)
}

// ChassisControl powers the machine on, off, cycles or resets it, or sends a
// diagnostic interrupt or a soft shutdown.
func (s *Session) ChassisControl(ctx context.Context, a ChassisAction) error {
	_, err := s.Do(ctx, NetFnChassis, CmdChassisControl, []byte{byte(a)})
	return err
}

// SetBootFlags writes boot option parameter 5, wrapped in the set-in-progress
// sequence as ipmitool does (IPMI v2.0 §28.12; docs/client-quirks.md): in
// progress → flags → commit → complete. A BMC that rejects parameter 0 gets
// the flags alone.
func (s *Session) SetBootFlags(ctx context.Context, f BootFlags) error {
	f.Valid = true
	useParam0 := true
	if _, err := s.Do(ctx, NetFnChassis, CmdSetBootOptions, []byte{BootParamSetInProgress, 1}); err != nil {
		var ce *CompletionError
		if !errors.As(err, &ce) {
			return err
		}
		useParam0 = false
	}
	// Boot info acknowledge (BIOS/POST bit), as ipmitool writes; optional.
	_, _ = s.Do(ctx, NetFnChassis, CmdSetBootOptions, []byte{BootParamInfoAck, 0x01, 0x01})
	_, err := s.Do(ctx, NetFnChassis, CmdSetBootOptions, f.Append([]byte{BootParamFlags}))
	if useParam0 {
		if err == nil {
			_, _ = s.Do(ctx, NetFnChassis, CmdSetBootOptions, []byte{BootParamSetInProgress, 2})
		}
		// Always leave "set complete", or the BMC refuses the next writer.
		_, _ = s.Do(ctx, NetFnChassis, CmdSetBootOptions, []byte{BootParamSetInProgress, 0})
	}
	if err != nil {
		return fmt.Errorf("ipmi: setting boot device %s: %w", f.Device, err)
	}
	return nil
}

// BootFlags reads boot option parameter 5. An invalid (locked) parameter or
// a clear valid bit reads as "no override".
func (s *Session) BootFlags(ctx context.Context) (BootFlags, error) {
	d, err := s.Do(ctx, NetFnChassis, CmdGetBootOptions, []byte{BootParamFlags, 0, 0})
	if err != nil {
		return BootFlags{}, err
	}
	r, err := ParseBootOptions(d)
	if err != nil {
		return BootFlags{}, err
	}
	f, err := ParseBootFlags(r.Data)
	if err != nil {
		return BootFlags{}, err
	}
	if r.Invalid {
		f.Valid = false
	}
	return f, nil
}

// CipherSuites lists the suites the BMC offers for IPMI payloads.
func (s *Session) CipherSuites(ctx context.Context) ([]uint8, error) {
	ids, _, err := collectCipherSuites(func(index byte) ([]byte, error) {
		return s.Do(ctx, NetFnApp, CmdGetChannelCipherSuites, CipherSuitesRequest(index))
	})
	return ids, err
}

// collectCipherSuites reads the pages of Get Channel Cipher Suites (index
// 0, 1, … while a full 16 bytes of records come back) and returns the suite
// IDs, how many pages were read, and the error that ended the reading.
func collectCipherSuites(fetch func(index byte) ([]byte, error)) ([]uint8, int, error) {
	var records []byte
	pages := 0
	for index := byte(0); index < 0x40; index++ {
		d, err := fetch(index)
		if err != nil {
			return ParseCipherSuiteRecords(records), pages, err
		}
		if len(d) < 1 {
			break
		}
		pages++
		records = append(records, d[1:]...)
		if len(d)-1 < 16 {
			break
		}
	}
	return ParseCipherSuiteRecords(records), pages, nil
}

// ActivatePayload activates a payload instance (SOL: pt = PayloadSOL).
func (s *Session) ActivatePayload(ctx context.Context, pt PayloadType, instance, aux byte) (ActivatePayloadResponse, error) {
	d, err := s.Do(ctx, NetFnApp, CmdActivatePayload, ActivatePayloadRequest(pt, instance, aux))
	if err != nil {
		return ActivatePayloadResponse{}, err
	}
	return ParseActivatePayload(d)
}

// DeactivatePayload deactivates a payload instance.
func (s *Session) DeactivatePayload(ctx context.Context, pt PayloadType, instance byte) error {
	_, err := s.Do(ctx, NetFnApp, CmdDeactivatePayload, DeactivatePayloadRequest(pt, instance))
	return err
}

// PayloadActivationStatus reports which instances of a payload are active.
func (s *Session) PayloadActivationStatus(ctx context.Context, pt PayloadType) (PayloadActivation, error) {
	d, err := s.Do(ctx, NetFnApp, CmdGetPayloadActivation, []byte{byte(pt)})
	if err != nil {
		return PayloadActivation{}, err
	}
	return ParsePayloadActivation(d)
}

// PayloadInstanceInfo reports which session owns a payload instance.
func (s *Session) PayloadInstanceInfo(ctx context.Context, pt PayloadType, instance byte) (PayloadInstanceInfo, error) {
	d, err := s.Do(ctx, NetFnApp, CmdGetPayloadInstanceInfo, []byte{byte(pt), instance})
	if err != nil {
		return PayloadInstanceInfo{}, err
	}
	return ParsePayloadInstanceInfo(d)
}
