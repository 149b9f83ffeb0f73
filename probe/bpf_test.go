package probe

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/bpf"
)

func TestFilterProgram(t *testing.T) {
	vectors := loadVectors(t)
	c := vecConfig()
	payload, err := BuildRequest(&c, vecXID)
	if err != nil {
		t.Fatal(err)
	}
	request := BuildRequestFrame(vecInterface, payload)

	// A reply whose IP header carries 4 bytes of options: the filter must
	// find the UDP port through the header length, not at a fixed offset.
	withIPOpts := append([]byte(nil), vectors["C00_ack_baseline"][:34]...)
	withIPOpts[14] = 0x46
	withIPOpts = append(withIPOpts, 1, 1, 1, 0)
	withIPOpts = append(withIPOpts, vectors["C00_ack_baseline"][34:]...)

	fragment := append([]byte(nil), vectors["C00_ack_baseline"]...)
	fragment[14+6], fragment[14+7] = 0x00, 0x10

	tests := []struct {
		name          string
		frame         []byte
		dhcp, withARP bool
	}{
		{"ack", vectors["C00_ack_baseline"], true, true},
		{"nak", vectors["C04b_nak_from_B"], true, true},
		{"ack with IP options", withIPOpts, true, true},
		{"bad lengths still reach the decoder",
			vectors["C10f_udp_length_field_4"], true, true},
		{"later fragment", fragment, false, false},
		{"own request to port 67", request, false, false},
		{"arp reply", vectors["C16_a_reply_from_other_host_unicast_to_us"],
			false, true},
		{"arp who-has", vectors["C16_e_router_who-has_not_conflict"],
			false, true},
		{"short frame", []byte{1, 2, 3}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, arp := range []bool{false, true} {
				vm, err := bpf.NewVM(filterProgram(arp))
				if err != nil {
					t.Fatalf("filter does not load: %v", err)
				}
				n, err := vm.Run(tt.frame)
				if err != nil {
					t.Fatalf("run filter: %v", err)
				}
				want := tt.dhcp || (arp && tt.withARP)
				if got := n > 0; got != want {
					t.Errorf("arp=%v: passed=%v, want %v", arp, got, want)
				}
			}
		})
	}
}

// TestKernelFilterDropsTaggedFramesFirst runs the kernel filter's
// VLAN prefix, which bpf.VM cannot (it has no VLAN extensions), on the
// tag metadata of a frame: a VLAN tag drops it, no tag or a priority
// tag (VLAN ID 0) hands it to filterProgram.
func TestKernelFilterDropsTaggedFramesFirst(t *testing.T) {
	tests := []struct {
		name    string
		present bool
		tci     uint32
		pass    bool
	}{
		{"untagged", false, 0, true},
		{"priority tag, VLAN 0", true, 5 << 13, true},
		{"VLAN 120", true, 120, false},
		{"VLAN 120 with priority", true, 3<<13 | 120, false},
		{"VLAN 4095", true, 0x0fff, false},
	}
	for _, arp := range []bool{false, true} {
		prog := kernelFilter(arp)
		core := filterProgram(arp)
		if _, err := bpf.Assemble(prog); err != nil {
			t.Fatalf("kernel filter does not assemble: %v", err)
		}
		start := len(prog) - len(core)
		if diff := cmp.Diff(core, prog[start:]); diff != "" {
			t.Errorf("arp=%v: rest differs from filterProgram", arp)
		}
		for _, tt := range tests {
			got := runVLANPrefix(t, prog, start, tt.present, tt.tci)
			if got != tt.pass {
				t.Errorf("arp=%v, %s: reaches filterProgram=%v, want %v",
					arp, tt.name, got, tt.pass)
			}
		}
	}
}

// runVLANPrefix interprets prog from its first instruction until it
// reaches start (the frame goes on to filterProgram: true) or returns
// (false; only a drop is allowed there).
func runVLANPrefix(t *testing.T, prog []bpf.Instruction, start int,
	present bool, tci uint32) bool {
	t.Helper()
	var a uint32
	for pc := 0; pc < len(prog); pc++ {
		if pc >= start {
			if pc != start && prog[pc] != (bpf.RetConstant{Val: 0}) {
				t.Fatalf("prefix jumps into filterProgram at %d", pc)
			}

			return pc == start
		}
		switch in := prog[pc].(type) {
		case bpf.LoadExtension:
			switch in.Num {
			case bpf.ExtVLANTagPresent:
				a = 0
				if present {
					a = 1
				}
			case bpf.ExtVLANTag:
				a = tci
			default:
				t.Fatalf("unexpected extension %v", in.Num)
			}
		case bpf.ALUOpConstant:
			if in.Op != bpf.ALUOpAnd {
				t.Fatalf("unexpected ALU op %v", in.Op)
			}
			a &= in.Val
		case bpf.JumpIf:
			var cond bool
			switch in.Cond {
			case bpf.JumpEqual:
				cond = a == in.Val
			case bpf.JumpNotEqual:
				cond = a != in.Val
			default:
				t.Fatalf("unexpected jump %v", in.Cond)
			}
			if cond {
				pc += int(in.SkipTrue)
			} else {
				pc += int(in.SkipFalse)
			}
		default:
			t.Fatalf("unexpected instruction %v in the prefix", in)
		}
	}
	t.Fatal("ran off the end of the program")

	return false
}
