package appproto_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/appproto"
)

// TestServerPort checks the default registry's port table.
func TestServerPort(t *testing.T) {
	reg := appproto.DefaultRegistry()
	for port, want := range map[uint16]string{
		// The ports flow/explain's protoOf names by its own switch: the
		// registry gives each the same name.
		1521: "tns", 1522: "tns", 1526: "tns",
		80: "http", 8000: "http", 8008: "http", 8080: "http", 8888: "http",
		443: "tls", 8443: "tls",
		5432: "postgres", 3306: "mysql", 1433: "tds", 6379: "redis",
		// Further ports of the built-in protocols (their Ports).
		1525: "tns", 2483: "tns", 3128: "http", 993: "tls",
		// Services without a parser (from the list flow kept before the table).
		2049: "nfs", 3389: "rdp", 5672: "amqp", 9000: "http-alt", 9042: "cassandra", 9092: "kafka",
		9200: "elasticsearch", 11211: "memcached", 27017: "mongodb",
	} {
		name, ok := reg.ServerPort(port)
		assert.True(t, ok, "port %d", port)
		assert.Equal(t, want, name, "port %d", port)
		assert.True(t, reg.IsServerPort(port), "port %d", port)
		if p := reg.Lookup(name); p != nil {
			assert.Contains(t, p.Ports(), port, "a parsed service's port is one of its Ports")
		}
	}
	// The mid-stream client rule's list before the table: every port in
	// it is still a server's.
	for _, port := range []uint16{1433, 1521, 1522, 1526, 2049, 3128, 3306, 3389, 5432, 5672, 6379, 8000, 8008, 8080,
		8443, 8888, 9000, 9042, 9092, 9200, 11211, 27017} {
		assert.True(t, reg.IsServerPort(port), "port %d", port)
	}
	// Below 1024 every port is a server's, named or not.
	for _, port := range []uint16{0, 22, 25, 1023} {
		_, ok := reg.ServerPort(port)
		assert.False(t, ok, "port %d has no name", port)
		assert.True(t, reg.IsServerPort(port), "port %d", port)
	}
	for _, port := range []uint16{1024, 40000, 65535} {
		_, ok := reg.ServerPort(port)
		assert.False(t, ok, "port %d", port)
		assert.False(t, reg.IsServerPort(port), "port %d", port)
	}
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = reg.ServerPort(27017)
		_ = reg.IsServerPort(40000)
	})
	assert.Zero(t, allocs, "the per-connection lookup allocates")
}

// TestRegisterService: the first name to claim a port keeps it; names are
// unique across protocols and services; registries are independent.
func TestRegisterService(t *testing.T) {
	var zero appproto.Registry
	assert.True(t, zero.IsServerPort(80), "below 1024 even in an empty registry")
	assert.False(t, zero.IsServerPort(5432))

	reg := &appproto.Registry{}
	require.NoError(t, reg.RegisterService("a", 7000, 7001))
	require.NoError(t, reg.RegisterService("b", 7001, 7002))
	require.NoError(t, reg.Register(appproto.Postgres{}))
	require.NoError(t, reg.RegisterService("pgbouncer", 5432, 6432))
	for port, want := range map[uint16]string{7000: "a", 7001: "a", 7002: "b", 5432: "postgres", 6432: "pgbouncer"} {
		name, ok := reg.ServerPort(port)
		assert.True(t, ok)
		assert.Equal(t, want, name, "port %d", port)
	}
	assert.Nil(t, reg.Lookup("a"), "a service is not a protocol")
	assert.ErrorIs(t, reg.RegisterService("postgres", 1), appproto.ErrDuplicate)
	assert.ErrorIs(t, reg.RegisterService("a", 1), appproto.ErrDuplicate)
	assert.Error(t, reg.RegisterService("", 1))
	require.NoError(t, reg.RegisterService("line", 7100))
	assert.ErrorIs(t, reg.Register(lineProto{}), appproto.ErrDuplicate)

	one, two := appproto.DefaultRegistry(), appproto.DefaultRegistry()
	require.NoError(t, one.RegisterService("custom", 7777))
	assert.False(t, two.IsServerPort(7777), "DefaultRegistry returns a fresh value")
}

// ExampleRegistry_ServerPort names the server port of a connection whose
// protocol the payload did not show.
func ExampleRegistry_ServerPort() {
	reg := appproto.DefaultRegistry()
	for _, port := range []uint16{1521, 9092, 22, 40000} {
		name, ok := reg.ServerPort(port)
		fmt.Printf("%d: %q %v, server port %v, parsed %v\n", port, name, ok, reg.IsServerPort(port), reg.Lookup(name) != nil)
	}
	// Output:
	// 1521: "tns" true, server port true, parsed true
	// 9092: "kafka" true, server port true, parsed false
	// 22: "" false, server port true, parsed false
	// 40000: "" false, server port false, parsed false
}
