// Command mutate writes one mutant of the mutation campaign that the
// tools' tests run (TestMutants in each of examples/*): a capture with 1
// to 8 bytes of its packet data flipped (flowtest.Campaign), so that a
// mutant a test names can be made again and fed to the built tools.
//
//	go run ./flow/flowtest/mutate -seed 1 -i 17 > m.pcap
//	go run ./flow/flowtest/mutate -seed 1 -i 17 FILE... > m.pcap
//
// Without FILE the sources are the campaign's: the committed captures
// under testdata/lab, sorted (flowtest.LabCaptures). Mutant i is made from
// source i modulo their number. The flips go to standard error.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/netecology/netecology/flow/flowtest"
)

func main() {
	seed := flag.Uint64("seed", 1, "the campaign's seed (NETECOLOGY_MUTANT_SEED in the tests)")
	i := flag.Int("i", 0, "the mutant's index")
	flag.Parse()
	if err := run(*seed, *i, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(1)
	}
}

func run(seed uint64, i int, files []string) error {
	if i < 0 {
		return fmt.Errorf("-i %d: want an index from 0", i)
	}
	if len(files) == 0 {
		var err error
		if files, err = flowtest.LabCaptures(); err != nil {
			return err
		}
	}
	c := flowtest.Campaign{Sources: files, Seed: seed}
	m, err := c.Mutant(i)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, m)
	_, err = os.Stdout.Write(m.Data)
	return err
}
