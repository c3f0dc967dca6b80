package appproto

import (
	"errors"
	"slices"
)

// Registry is an ordered set of protocols tried on each connection, and
// the one table of well-known server ports: those of its protocols and
// those of services it does not parse. It is a value the caller owns:
// there is no global registry. The zero value is empty; DefaultRegistry
// returns one with the built-in protocols and services.
type Registry struct {
	protos []Protocol
	names  []string   // services without a parser
	ports  []portName // sorted by port, one entry per port
}

// portName names the service of a well-known server port.
type portName struct {
	port uint16
	name string
}

// ErrDuplicate is returned by Register and RegisterService for a name
// already registered.
var ErrDuplicate = errors.New("appproto: protocol already registered")

// Register adds p, and its Ports to the port table. Protocols are tried
// in registration order; on equal scores the first registered wins.
func (r *Registry) Register(p Protocol) error {
	if p == nil || p.Name() == "" {
		return errors.New("appproto: register: protocol without a name")
	}
	if r.has(p.Name()) {
		return ErrDuplicate
	}
	r.protos = append(r.protos, p)
	r.addPorts(p.Name(), p.Ports())
	return nil
}

// RegisterService adds the well-known server ports of a service the
// registry does not parse, under its name ("nfs", "kafka"): they are
// looked up by ServerPort and IsServerPort, and play no part in
// identification.
func (r *Registry) RegisterService(name string, ports ...uint16) error {
	if name == "" {
		return errors.New("appproto: register service: no name")
	}
	if r.has(name) {
		return ErrDuplicate
	}
	r.names = append(r.names, name)
	r.addPorts(name, ports)
	return nil
}

// has reports whether name is registered, as a protocol or a service.
func (r *Registry) has(name string) bool {
	return slices.Contains(r.names, name) || slices.ContainsFunc(r.protos, func(q Protocol) bool { return q.Name() == name })
}

// addPorts records ports under name. A port already in the table keeps
// the name registered first.
func (r *Registry) addPorts(name string, ports []uint16) {
	for _, port := range ports {
		i, found := slices.BinarySearchFunc(r.ports, port, cmpPort)
		if !found {
			r.ports = slices.Insert(r.ports, i, portName{port: port, name: name})
		}
	}
}

func cmpPort(e portName, port uint16) int { return int(e.port) - int(port) }

// Protocols returns the registered protocols in order. The slice is the
// registry's: do not modify it.
func (r *Registry) Protocols() []Protocol { return r.protos }

// Lookup returns the protocol with the given name, or nil (for a name
// unknown, or registered by RegisterService).
func (r *Registry) Lookup(name string) Protocol {
	for _, p := range r.protos {
		if p.Name() == name {
			return p
		}
	}
	return nil
}

// ServerPort returns the name of the service whose well-known server port
// port is: the first registered protocol (by its Ports) or service that
// claimed it. ok is false for a port no one claimed. Lookup(name) tells
// whether the registry parses that service. It costs a binary search of
// the table and allocates nothing.
func (r *Registry) ServerPort(port uint16) (name string, ok bool) {
	if i, found := slices.BinarySearchFunc(r.ports, port, cmpPort); found {
		return r.ports[i].name, true
	}
	return "", false
}

// IsServerPort reports whether port is taken as a server's when a
// connection is picked up without its handshake: every port below 1024,
// and the ports ServerPort names.
func (r *Registry) IsServerPort(port uint16) bool {
	if port < 1024 {
		return true
	}
	_, ok := r.ServerPort(port)
	return ok
}

// defaultServices are the well-known server ports above 1023 of services
// the built-in protocols do not parse, named as their users know them.
var defaultServices = [...]struct {
	name  string
	ports []uint16
}{
	{"nfs", []uint16{2049}},
	{"rdp", []uint16{3389}},
	{"amqp", []uint16{5672}},
	{"http-alt", []uint16{9000}}, // web consoles and object stores (SonarQube, MinIO, Portainer)
	{"cassandra", []uint16{9042}},
	{"kafka", []uint16{9092}},
	{"elasticsearch", []uint16{9200}},
	{"memcached", []uint16{11211}},
	{"mongodb", []uint16{27017}},
}

// DefaultRegistry returns a new registry holding the built-in protocols
// (TNS, HTTP/1.x, PostgreSQL, MySQL, TDS, TLS and Redis, each with its
// Ports) and the server ports of common services it does not parse: NFS
// 2049, RDP 3389, AMQP 5672, 9000 ("http-alt"), Cassandra 9042, Kafka
// 9092, Elasticsearch 9200, memcached 11211 and MongoDB 27017.
func DefaultRegistry() *Registry {
	r := &Registry{}
	for _, p := range []Protocol{TNS{}, HTTP{}, Postgres{}, MySQL{}, TDS{}, TLS{}, Redis{}} {
		_ = r.Register(p)
	}
	for _, s := range defaultServices {
		_ = r.RegisterService(s.name, s.ports...)
	}
	return r
}
