package probe

import (
	"testing"
	"time"
)

// FuzzDecodeFrame feeds arbitrary frames through the whole receive path:
// Ethernet, IPv4 and UDP decoding, matching and reply parsing. It must
// never panic, and whatever it keeps must be a consistent reply.
func FuzzDecodeFrame(f *testing.F) {
	for _, frame := range loadVectors(f) {
		f.Add(frame)
	}

	f.Fuzz(func(t *testing.T, frame []byte) {
		c := vecConfig()
		col := newCollector(&c, vecXID)
		col.consider(frame, time.Now())
		col.consider(frame, time.Now())

		skipped := 0
		for _, n := range col.res.Skipped {
			skipped += n
		}
		switch {
		case skipped == 2 && len(col.res.Replies) == 0:
			return
		case skipped != 0 || len(col.res.Replies) != 1:
			t.Fatalf("one frame twice gave %d replies and %d skips",
				len(col.res.Replies), skipped)
		}

		r := col.res.Replies[0]
		if r.Count != 2 {
			t.Errorf("the same frame twice counted %d times", r.Count)
		}
		if r.Type != ACK && r.Type != NAK && r.Type != Malformed {
			t.Errorf("kept a reply of type %q", r.Type)
		}
		if r.ServerKey() == "" {
			t.Error("reply has an empty server key")
		}
		if (r.ServerIDState == ServerIDPresent) != (r.ServerID.IsValid() &&
			r.ServerIDRaw == nil) {
			t.Errorf("server id state %s with id %v raw %x",
				r.ServerIDState, r.ServerID, r.ServerIDRaw)
		}
	})
}

// FuzzARPFrame feeds arbitrary frames to the ARP classifier: it must
// never panic, and every frame is either a responder or counted as
// ignored.
func FuzzARPFrame(f *testing.F) {
	for name, frame := range loadVectors(f) {
		if len(name) > 3 && name[:3] == "C16" {
			f.Add(frame)
		}
	}

	f.Fuzz(func(t *testing.T, frame []byte) {
		_, body, ok := etherPayload(frame)
		if !ok {
			return
		}
		w := newARPWatcher(vecIP, vecInterface, vecClient,
			func(string, ...any) {})
		w.consider(body, time.Now())

		heard := 0
		for _, r := range w.res.Responders {
			heard += r.Count
			if len(r.MAC) != 6 {
				t.Errorf("responder MAC %x is not 6 bytes", r.MAC)
			}
		}
		for _, n := range w.res.Ignored {
			heard += n
		}
		if heard != 1 {
			t.Errorf("one frame was counted %d times", heard)
		}
		if w.res.Status() == ARPConflict &&
			w.res.Responders[0].Kind != KindConflict {
			t.Errorf("conflict status without a conflicting responder")
		}
	})
}
