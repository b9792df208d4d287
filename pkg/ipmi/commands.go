package ipmi

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Command numbers.
const (
	CmdGetDeviceID              = 0x01 // App
	CmdGetChannelAuthCaps       = 0x38 // App
	CmdSetSessionPrivilege      = 0x3B // App
	CmdCloseSession             = 0x3C // App
	CmdActivatePayload          = 0x48 // App
	CmdDeactivatePayload        = 0x49 // App
	CmdGetPayloadActivation     = 0x4A // App
	CmdGetPayloadInstanceInfo   = 0x4B // App
	CmdGetChannelPayloadSupport = 0x4E // App
	CmdGetChannelPayloadVersion = 0x4F // App
	CmdGetChannelCipherSuites   = 0x54 // App

	CmdGetChassisStatus = 0x01 // Chassis
	CmdChassisControl   = 0x02 // Chassis
	CmdSetBootOptions   = 0x08 // Chassis
	CmdGetBootOptions   = 0x09 // Chassis
)

var commandNames = map[cmdKey]string{
	{NetFnApp, CmdGetDeviceID}:              "Get Device ID",
	{NetFnApp, CmdGetChannelAuthCaps}:       "Get Channel Authentication Capabilities",
	{NetFnApp, CmdSetSessionPrivilege}:      "Set Session Privilege Level",
	{NetFnApp, CmdCloseSession}:             "Close Session",
	{NetFnApp, CmdActivatePayload}:          "Activate Payload",
	{NetFnApp, CmdDeactivatePayload}:        "Deactivate Payload",
	{NetFnApp, CmdGetPayloadActivation}:     "Get Payload Activation Status",
	{NetFnApp, CmdGetPayloadInstanceInfo}:   "Get Payload Instance Info",
	{NetFnApp, CmdGetChannelPayloadSupport}: "Get Channel Payload Support",
	{NetFnApp, CmdGetChannelPayloadVersion}: "Get Channel Payload Version",
	{NetFnApp, CmdGetChannelCipherSuites}:   "Get Channel Cipher Suites",
	{NetFnChassis, CmdGetChassisStatus}:     "Get Chassis Status",
	{NetFnChassis, CmdChassisControl}:       "Chassis Control",
	{NetFnChassis, CmdSetBootOptions}:       "Set System Boot Options",
	{NetFnChassis, CmdGetBootOptions}:       "Get System Boot Options",
}

// CommandName names a command for messages.
func CommandName(netFn NetFn, cmd byte) string {
	if n, ok := commandNames[cmdKey{netFn &^ 1, cmd}]; ok {
		return n
	}
	return fmt.Sprintf("command 0x%02x/0x%02x", uint8(netFn&^1), cmd)
}

func short(cmd string, data []byte, n int) error {
	if len(data) < n {
		return malformed("%s response of %d bytes, want %d", cmd, len(data), n)
	}
	return nil
}

// ChannelThis addresses the channel the request arrived on.
const ChannelThis = 0x0E

// AuthCaps is the Get Channel Authentication Capabilities response (IPMI
// v2.0 §22.13, Table 22-15).
type AuthCaps struct {
	Channel   byte
	AuthTypes byte
	IPMI2Ext  bool // byte 1 bit 7: extended (IPMI 2.0) data present
	Status    byte // byte 2: anonymous, null users, non-null users, …, b5 K_g set
	IPMI15    bool
	IPMI2     bool
	OEMIANA   uint32
	OEMAux    byte
}

// KgSet reports the BMC's "non-default K_g" bit.
func (a AuthCaps) KgSet() bool { return a.Status&0x20 != 0 }

// AuthCapsRequest builds the request data; ext asks for IPMI 2.0 data.
func AuthCapsRequest(ext bool, priv Privilege) []byte {
	ch := byte(ChannelThis)
	if ext {
		ch |= 0x80
	}
	return []byte{ch, byte(priv) & 0x0F}
}

// Append appends the response data (without completion code).
func (a AuthCaps) Append(b []byte) []byte {
	t := a.AuthTypes
	if a.IPMI2Ext {
		t |= 0x80
	}
	var v byte
	if a.IPMI15 {
		v |= 1
	}
	if a.IPMI2 {
		v |= 2
	}
	b = append(b, a.Channel, t, a.Status, v)
	b = append(b, byte(a.OEMIANA), byte(a.OEMIANA>>8), byte(a.OEMIANA>>16))
	return append(b, a.OEMAux)
}

// ParseAuthCaps decodes the response data after the completion code.
func ParseAuthCaps(d []byte) (AuthCaps, error) {
	if err := short("Get Channel Authentication Capabilities", d, 8); err != nil {
		return AuthCaps{}, err
	}
	return AuthCaps{
		Channel:   d[0],
		AuthTypes: d[1] & 0x7F,
		IPMI2Ext:  d[1]&0x80 != 0,
		Status:    d[2],
		IPMI15:    d[3]&1 != 0,
		IPMI2:     d[3]&2 != 0,
		OEMIANA:   uint32(d[4]) | uint32(d[5])<<8 | uint32(d[6])<<16,
		OEMAux:    d[7],
	}, nil
}

// CipherSuitesRequest builds Get Channel Cipher Suites request data for one
// list index, listing by cipher suite (IPMI v2.0 §22.15).
func CipherSuitesRequest(index byte) []byte {
	return []byte{ChannelThis, byte(PayloadIPMI), 0x80 | index&0x3F}
}

// AppendCipherSuiteRecords appends the standard records for ids.
func AppendCipherSuiteRecords(b []byte, ids []uint8) []byte {
	for _, id := range ids {
		s, ok := LookupCipherSuite(id)
		if !ok {
			continue
		}
		b = append(b, 0xC0, id, byte(s.Auth), 0x40|byte(s.Integrity), 0x80|byte(s.Conf))
	}
	return b
}

// ParseCipherSuiteRecords extracts the suite IDs from the concatenated record
// data of all list pages. Records it cannot parse end the list.
func ParseCipherSuiteRecords(d []byte) []uint8 {
	var ids []uint8
	for len(d) >= 2 {
		switch d[0] {
		case 0xC0:
			ids = append(ids, d[1])
			d = d[2:]
		case 0xC1:
			if len(d) < 5 {
				return ids
			}
			ids = append(ids, d[1])
			d = d[5:]
		default:
			return ids
		}
		// Skip the algorithm bytes (tagged in bits 7:6) up to the next record.
		for len(d) > 0 && d[0]&0xC0 != 0xC0 {
			d = d[1:]
		}
	}
	return ids
}

// DeviceID is the Get Device ID response (IPMI 2.0 §20.1).
type DeviceID struct {
	DeviceID          byte
	DeviceRevision    byte
	FirmwareMajor     byte // bits 6:0
	FirmwareMinor     byte // BCD
	IPMIVersion       byte // BCD, 0x02 = 2.0
	AdditionalSupport byte
	ManufacturerID    uint32 // 20 bits
	ProductID         uint16
	AuxFirmware       []byte // 0 or 4 bytes
}

// Append appends the response data.
func (d DeviceID) Append(b []byte) []byte {
	b = append(b, d.DeviceID, d.DeviceRevision, d.FirmwareMajor, d.FirmwareMinor, d.IPMIVersion, d.AdditionalSupport)
	b = append(b, byte(d.ManufacturerID), byte(d.ManufacturerID>>8), byte(d.ManufacturerID>>16))
	b = binary.LittleEndian.AppendUint16(b, d.ProductID)
	return append(b, d.AuxFirmware...)
}

// ParseDeviceID decodes the response data.
func ParseDeviceID(d []byte) (DeviceID, error) {
	if err := short("Get Device ID", d, 11); err != nil {
		return DeviceID{}, err
	}
	r := DeviceID{
		DeviceID: d[0], DeviceRevision: d[1], FirmwareMajor: d[2] & 0x7F, FirmwareMinor: d[3],
		IPMIVersion: d[4], AdditionalSupport: d[5],
		ManufacturerID: uint32(d[6]) | uint32(d[7])<<8 | uint32(d[8]&0x0F)<<16,
		ProductID:      binary.LittleEndian.Uint16(d[9:]),
	}
	if len(d) >= 15 {
		r.AuxFirmware = d[11:15]
	}
	return r, nil
}

// FirmwareVersion formats the firmware revision as ipmitool does.
func (d DeviceID) FirmwareVersion() string {
	return fmt.Sprintf("%d.%02x", d.FirmwareMajor, d.FirmwareMinor)
}

// ChassisStatus is the Get Chassis Status response (IPMI v2.0 §28.2).
type ChassisStatus struct {
	PowerOn        bool
	PowerState     byte // byte 0 as sent
	LastPowerEvent byte
	MiscState      byte
	FrontPanel     byte
	HasFrontPanel  bool
}

// Append appends the response data.
func (c ChassisStatus) Append(b []byte) []byte {
	p := c.PowerState &^ 1
	if c.PowerOn {
		p |= 1
	}
	b = append(b, p, c.LastPowerEvent, c.MiscState)
	if c.HasFrontPanel {
		b = append(b, c.FrontPanel)
	}
	return b
}

// ParseChassisStatus decodes the response data.
func ParseChassisStatus(d []byte) (ChassisStatus, error) {
	if err := short("Get Chassis Status", d, 3); err != nil {
		return ChassisStatus{}, err
	}
	c := ChassisStatus{PowerOn: d[0]&1 != 0, PowerState: d[0], LastPowerEvent: d[1], MiscState: d[2]}
	if len(d) >= 4 {
		c.HasFrontPanel, c.FrontPanel = true, d[3]
	}
	return c, nil
}

// ChassisAction is the Chassis Control request byte.
type ChassisAction byte

// Chassis Control actions (IPMI v2.0 §28.3).
const (
	PowerOff      ChassisAction = 0
	PowerOn       ChassisAction = 1
	PowerCycle    ChassisAction = 2
	HardReset     ChassisAction = 3
	DiagInterrupt ChassisAction = 4
	SoftShutdown  ChassisAction = 5
)

var actionNames = []string{"off", "on", "cycle", "reset", "diag", "soft"}

func (a ChassisAction) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action-%d", byte(a))
}

// ParseChassisAction accepts the names ghmicons and ipmitool use.
func ParseChassisAction(s string) (ChassisAction, error) {
	switch strings.ToLower(s) {
	case "off", "down":
		return PowerOff, nil
	case "on", "up":
		return PowerOn, nil
	case "cycle":
		return PowerCycle, nil
	case "reset", "hard-reset":
		return HardReset, nil
	case "diag", "nmi":
		return DiagInterrupt, nil
	case "soft", "shutdown":
		return SoftShutdown, nil
	}
	return 0, fmt.Errorf("ipmi: unknown power action %q (want %s)", s, strings.Join(actionNames, ", "))
}

// BootDevice is the device selector of boot flags (bits 5:2 of data byte 2).
type BootDevice byte

// Boot devices: the device selector of boot flags, parameter 5 (IPMI v2.0
// §28.12).
const (
	BootNone   BootDevice = 0x0
	BootPXE    BootDevice = 0x1
	BootDisk   BootDevice = 0x2
	BootSafe   BootDevice = 0x3
	BootDiag   BootDevice = 0x4
	BootCDROM  BootDevice = 0x5
	BootBIOS   BootDevice = 0x6
	BootFloppy BootDevice = 0xF
)

var bootNames = map[BootDevice]string{
	BootNone: "none", BootPXE: "pxe", BootDisk: "disk", BootSafe: "safe",
	BootDiag: "diag", BootCDROM: "cdrom", BootBIOS: "bios", BootFloppy: "floppy",
}

func (d BootDevice) String() string {
	if n, ok := bootNames[d]; ok {
		return n
	}
	return fmt.Sprintf("device-%d", byte(d))
}

// bootNameList is "none, pxe, …", in the order of the selector's values.
var bootNameList = func() string {
	var n []string
	for _, d := range slices.Sorted(maps.Keys(bootNames)) {
		n = append(n, bootNames[d])
	}
	return strings.Join(n, ", ")
}()

// ParseBootDevice accepts the names String gives (none, pxe, disk, safe,
// diag, cdrom, bios, floppy) and ipmitool's others (default, hdd, network,
// cd, dvd, setup).
func ParseBootDevice(s string) (BootDevice, error) {
	s = strings.ToLower(s)
	for d, n := range bootNames {
		if n == s {
			return d, nil
		}
	}
	switch s {
	case "default", "hdd":
		return BootDisk, nil
	case "network":
		return BootPXE, nil
	case "cd", "dvd":
		return BootCDROM, nil
	case "setup":
		return BootBIOS, nil
	}
	return 0, fmt.Errorf("ipmi: unknown boot device %q (want %s)", s, bootNameList)
}

// BootFlags is boot option parameter 5.
type BootFlags struct {
	Valid      bool
	Persistent bool
	EFI        bool
	Device     BootDevice
	// Rest holds data bytes 3–5 as they were.
	Rest [3]byte
}

// Boot option parameters (IPMI v2.0 §28.12, §28.13).
const (
	BootParamSetInProgress = 0
	BootParamInfoAck       = 4
	BootParamFlags         = 5
)

// Append appends the 5 data bytes of parameter 5.
func (f BootFlags) Append(b []byte) []byte {
	var b1 byte
	if f.Valid {
		b1 |= 0x80
	}
	if f.Persistent {
		b1 |= 0x40
	}
	if f.EFI {
		b1 |= 0x20
	}
	b = append(b, b1, byte(f.Device&0x0F)<<2)
	return append(b, f.Rest[:]...)
}

// ParseBootFlags decodes the 5 data bytes of parameter 5.
func ParseBootFlags(d []byte) (BootFlags, error) {
	if len(d) < 5 {
		return BootFlags{}, malformed("boot flags of %d bytes", len(d))
	}
	f := BootFlags{
		Valid: d[0]&0x80 != 0, Persistent: d[0]&0x40 != 0, EFI: d[0]&0x20 != 0,
		Device: BootDevice(d[1] >> 2 & 0x0F),
	}
	copy(f.Rest[:], d[2:5])
	return f, nil
}

func (f BootFlags) String() string {
	if !f.Valid {
		if f.Device != BootNone {
			// ipmi_sim stores the device but never sets the valid bit.
			return fmt.Sprintf("no override (device %s stored, valid bit clear)", f.Device)
		}
		return "no override"
	}
	s := f.Device.String()
	if f.Persistent {
		s += " persistent"
	} else {
		s += " next-boot"
	}
	if f.EFI {
		s += " efi"
	} else {
		s += " legacy"
	}
	return s
}

// BootOptionsResponse is Get System Boot Options' response data.
type BootOptionsResponse struct {
	Version   byte
	Invalid   bool // parameter invalid or locked (byte 1 bit 7)
	Parameter byte
	Data      []byte
}

// ParseBootOptions decodes Get System Boot Options response data.
func ParseBootOptions(d []byte) (BootOptionsResponse, error) {
	if err := short("Get System Boot Options", d, 2); err != nil {
		return BootOptionsResponse{}, err
	}
	return BootOptionsResponse{Version: d[0], Invalid: d[1]&0x80 != 0, Parameter: d[1] & 0x7F, Data: d[2:]}, nil
}

// ActivatePayloadRequest builds Activate Payload request data for SOL.
// aux is the auxiliary byte (IPMI v2.0 §24.1).
func ActivatePayloadRequest(pt PayloadType, instance, aux byte) []byte {
	return []byte{byte(pt) & 0x3F, instance & 0x0F, aux, 0, 0, 0}
}

// DeactivatePayloadRequest builds Deactivate Payload request data.
func DeactivatePayloadRequest(pt PayloadType, instance byte) []byte {
	return []byte{byte(pt) & 0x3F, instance & 0x0F, 0, 0, 0, 0}
}

// ActivatePayloadResponse is Activate Payload's response (IPMI v2.0 §24.1,
// Table 24-2).
type ActivatePayloadResponse struct {
	Aux          uint32
	InboundSize  uint16 // largest payload the console may send
	OutboundSize uint16 // largest payload the BMC will send
	Port         uint16
	VLAN         uint16
}

// Append appends the 12 response data bytes.
func (r ActivatePayloadResponse) Append(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, r.Aux)
	b = binary.LittleEndian.AppendUint16(b, r.InboundSize)
	b = binary.LittleEndian.AppendUint16(b, r.OutboundSize)
	b = binary.LittleEndian.AppendUint16(b, r.Port)
	return binary.LittleEndian.AppendUint16(b, r.VLAN)
}

// ParseActivatePayload decodes the response data.
func ParseActivatePayload(d []byte) (ActivatePayloadResponse, error) {
	if err := short("Activate Payload", d, 12); err != nil {
		return ActivatePayloadResponse{}, err
	}
	return ActivatePayloadResponse{
		Aux:          binary.LittleEndian.Uint32(d),
		InboundSize:  binary.LittleEndian.Uint16(d[4:]),
		OutboundSize: binary.LittleEndian.Uint16(d[6:]),
		Port:         binary.LittleEndian.Uint16(d[8:]),
		VLAN:         binary.LittleEndian.Uint16(d[10:]),
	}, nil
}

// PayloadActivation is Get Payload Activation Status' response (IPMI v2.0
// §24.4).
type PayloadActivation struct {
	Capacity byte
	Active   uint16 // bit n: instance n+1 active
}

// IsActive reports whether instance (1–16) is active.
func (p PayloadActivation) IsActive(instance byte) bool {
	return instance >= 1 && instance <= 16 && p.Active&(1<<(instance-1)) != 0
}

// Append appends the response data.
func (p PayloadActivation) Append(b []byte) []byte {
	return append(b, p.Capacity&0x0F, byte(p.Active), byte(p.Active>>8))
}

// ParsePayloadActivation decodes the response data.
func ParsePayloadActivation(d []byte) (PayloadActivation, error) {
	if err := short("Get Payload Activation Status", d, 3); err != nil {
		return PayloadActivation{}, err
	}
	return PayloadActivation{Capacity: d[0] & 0x0F, Active: uint16(d[1]) | uint16(d[2])<<8}, nil
}

// PayloadInstanceInfo is Get Payload Instance Info's response (IPMI v2.0
// §24.5).
type PayloadInstanceInfo struct {
	SessionID uint32 // the BMC's ID of the owning session, 0 if inactive
	Port      byte
}

// Append appends the 12 response data bytes.
func (p PayloadInstanceInfo) Append(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, p.SessionID)
	return append(b, p.Port, 0, 0, 0, 0, 0, 0, 0)
}

// ParsePayloadInstanceInfo decodes the response data.
func ParsePayloadInstanceInfo(d []byte) (PayloadInstanceInfo, error) {
	if err := short("Get Payload Instance Info", d, 5); err != nil {
		return PayloadInstanceInfo{}, err
	}
	return PayloadInstanceInfo{SessionID: binary.LittleEndian.Uint32(d), Port: d[4]}, nil
}
