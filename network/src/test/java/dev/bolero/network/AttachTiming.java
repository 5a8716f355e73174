package dev.bolero.network;

import static dev.bolero.network.testing.HostCommands.sh;

import java.util.ArrayList;
import java.util.List;

/**
 * Measures what network setup adds to a machine's start, on real taps inside a throw-away network namespace: attach
 * of a namespace's first machine (creates the bridge), of further machines, and detach. Run by hand as root:
 * {@code java -cp <test classpath> dev.bolero.network.AttachTiming [rounds]}. Not a test: it asserts nothing.
 */
final class AttachTiming {
    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        try (var world = Netns.create();
                var network = new NodeNetwork(world.config(), new InMemoryAllocationStore())) {
            network.reconcile();
            var first = new ArrayList<Long>();
            var next = new ArrayList<Long>();
            var detach = new ArrayList<Long>();
            var detachLast = new ArrayList<Long>();
            for (int i = 0; i < rounds; i++) {
                int n = i;
                first.add(time(() -> network.attach("first-" + n, "ns-" + n, NetworkRequest.defaults())));
            }
            for (int i = 0; i < rounds; i++) {
                int n = i;
                next.add(time(() -> network.attach("next-" + n, "ns-0", NetworkRequest.defaults())));
            }
            for (int i = 0; i < rounds; i++) {
                int n = i;
                detach.add(time(() -> network.detach("next-" + n)));
            }
            for (int i = 0; i < rounds; i++) {
                int n = i;
                detachLast.add(time(() -> network.detach("first-" + n)));
            }
            var exec = new ArrayList<Long>();
            for (int i = 0; i < rounds; i++) {
                exec.add(time(() -> sh("ip", "netns", "exec", world.node, "true")));
            }
            report("attach, first machine of a namespace", first);
            report("attach, further machine", next);
            report("detach, not the last machine", detach);
            report("detach, last machine (bridge removed)", detachLast);
            report("one 'ip netns exec NS true' (prefix overhead per command)", exec);
        }
    }

    interface Step {
        void run() throws Exception;
    }

    private static long time(Step step) throws Exception {
        long start = System.nanoTime();
        step.run();
        return System.nanoTime() - start;
    }

    private static void report(String what, List<Long> nanos) {
        var sorted = nanos.stream().sorted().toList();
        System.out.printf("%-60s median %6.1f ms  min %6.1f  max %6.1f  (n=%d)%n", what,
                sorted.get(sorted.size() / 2) / 1e6, sorted.getFirst() / 1e6, sorted.getLast() / 1e6, sorted.size());
    }
}
