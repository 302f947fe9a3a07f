package server_test

import (
	"fmt"
	"time"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server"
)

// match is one room's game: its players, and a mode a backend can change
// with a signal.
type match struct {
	room    *server.Room
	players []server.PlayerID
	mode    string
}

func (m *match) AddPlayer(id server.PlayerID) error         { m.players = append(m.players, id); return nil }
func (m *match) RemovePlayer(server.PlayerID)               {}
func (m *match) ApplyInput(server.PlayerID, uint32, []byte) {}
func (m *match) Step(uint32)                                {}
func (m *match) Snapshot(_ uint32, dst *state.Snapshot) {
	for _, p := range m.players {
		dst.Add(uint32(p))[0] = 1
	}
}

// Signal makes match a server.Signaler.
func (m *match) Signal(data []byte) ([]byte, error) {
	m.mode = string(data)
	m.room.SetLabel("mode=" + m.mode)
	return []byte("ok"), nil
}

// Rooms: the server makes a room for each name a client's connect token
// carries (here two are made ahead, as a backend would), lists them with
// their labels, and closes one.
func ExampleServer_CreateRoom() {
	tr, err := server.ListenNetcode("127.0.0.1:0", netcode.ServerConfig{ProtocolID: 7})
	if err != nil {
		panic(err)
	}
	codec := state.CodecConfig{Schema: state.Schema{Fields: []state.Field{state.IntField("x", 4, false)}}}
	srv, err := server.New(server.Config{
		Codec:    codec,
		RoomOf:   server.RoomFromUserData,
		MaxRooms: 100,
		NewRoom: func(r *server.Room) (server.Game, error) {
			r.SetMaxPlayers(20)
			return &match{room: r, mode: "deathmatch"}, nil
		},
	}, nil, tr)
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	for _, name := range []string{"eu-1", "eu-2"} {
		_, err := srv.CreateRoom(name, server.RoomOptions{Label: "mode=deathmatch", MaxPlayers: 20}, func(r *server.Room) (server.Game, error) {
			return &match{room: r, mode: "deathmatch"}, nil
		})
		if err != nil {
			panic(err)
		}
	}
	_ = srv.Step(time.Unix(0, 0)) // a tick publishes the list
	for _, r := range srv.Rooms() {
		fmt.Printf("%s %q players %d/%d\n", r.Name, r.Label, r.Players, r.MaxPlayers)
	}
	srv.Room("eu-2").Close("match over") // from the tick's goroutine (or srv.Do from elsewhere)
	_ = srv.Step(time.Unix(0, 0))
	fmt.Println(len(srv.Rooms()), "room left")
	// Output:
	// eu-1 "mode=deathmatch" players 0/20
	// eu-2 "mode=deathmatch" players 0/20
	// 1 room left
}
