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

func TestKernelFilterDropsTaggedFramesFirst(t *testing.T) {
	for _, arp := range []bool{false, true} {
		prog := kernelFilter(arp)
		core := filterProgram(arp)
		if _, err := bpf.Assemble(prog); err != nil {
			t.Fatalf("kernel filter does not assemble: %v", err)
		}
		want := []bpf.Instruction{
			bpf.LoadExtension{Num: bpf.ExtVLANTagPresent},
			bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0,
				SkipTrue: uint8(len(core) - 1)},
		}
		if diff := cmp.Diff(want, prog[:2]); diff != "" {
			t.Errorf("arp=%v: prefix (-want +got):\n%s", arp, diff)
		}
		// The jump lands on the last instruction, which must drop.
		target := 2 + int(prog[1].(bpf.JumpIf).SkipTrue)
		if target != len(prog)-1 || prog[target] != (bpf.RetConstant{Val: 0}) {
			t.Errorf("arp=%v: tagged frames jump to %d (%v), want the drop "+
				"at %d", arp, target, prog[target], len(prog)-1)
		}
		if diff := cmp.Diff(core, prog[2:]); diff != "" {
			t.Errorf("arp=%v: rest differs from filterProgram", arp)
		}
	}
}
