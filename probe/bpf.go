package probe

import (
	"golang.org/x/net/bpf"
)

// snapLen is how much of a frame the kernel filter passes on.
const snapLen = 0x40000

// kernelFilter is the program attached to the probe socket: frames that
// arrived with an 802.1Q tag naming a VLAN are dropped first, then
// filterProgram runs. Linux strips the tag before a packet socket sees
// the frame and keeps it as metadata, so a tagged frame from another VLAN
// on a trunk port would otherwise look native: a host using the address
// on another VLAN would pass for a conflict. A priority tag (VLAN ID 0,
// IEEE 802.1Q §9.6) belongs to the native network and passes, and on a
// VLAN interface (eth0.120) frames arrive untagged and pass.
func kernelFilter(withARP bool) []bpf.Instruction {
	prog := filterProgram(withARP)
	drop := uint8(len(prog) - 1) // filterProgram ends with its drop

	return append([]bpf.Instruction{
		/* 0 */ bpf.LoadExtension{Num: bpf.ExtVLANTagPresent},
		/* 1 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0, SkipTrue: 3},
		/* 2 */ bpf.LoadExtension{Num: bpf.ExtVLANTag},
		/* 3 */ bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0x0fff},
		/* 4 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0, SkipTrue: drop},
	}, prog...)
}

// filterProgram passes unfragmented (or first-fragment) IPv4 UDP
// datagrams to port 68 and, when withARP is set, ARP frames. Everything
// else never reaches user space. It must end with its drop instruction.
func filterProgram(withARP bool) []bpf.Instruction {
	accept := bpf.RetConstant{Val: snapLen}
	drop := bpf.RetConstant{Val: 0}

	arpCheck := bpf.Instruction(drop)
	if withARP {
		// Still holding the EtherType: on to accept or to drop.
		arpCheck = bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherTypeARP,
			SkipTrue: 7, SkipFalse: 8}
	}

	return []bpf.Instruction{
		/* 0 */ bpf.LoadAbsolute{Off: 12, Size: 2},
		/* 1 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherTypeIPv4,
			SkipTrue: 1},
		/* 2 */ arpCheck,
		/* 3 */ bpf.LoadAbsolute{Off: ethHeaderLen + 9, Size: 1},
		/* 4 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoUDP,
			SkipFalse: 6},
		/* 5 */ bpf.LoadAbsolute{Off: ethHeaderLen + 6, Size: 2},
		/* 6 */ bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff,
			SkipTrue: 4},
		/* 7 */ bpf.LoadMemShift{Off: ethHeaderLen},
		/* 8 */ bpf.LoadIndirect{Off: ethHeaderLen + 2, Size: 2},
		/* 9 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: clientPort,
			SkipFalse: 1},
		/* 10 */ accept,
		/* 11 */ drop,
	}
}
