package probe

import (
	"golang.org/x/net/bpf"
)

// snapLen is how much of a frame the kernel filter passes on.
const snapLen = 0x40000

// filterProgram returns the classic BPF program the kernel runs on every
// frame of the probe socket: it passes unfragmented (or first-fragment)
// IPv4 UDP datagrams to port 68 and, when withARP is set, ARP frames.
// Everything else never reaches user space.
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
