package dev.bolero.cli;

import dev.bolero.api.wire.ClusterMachine;
import dev.bolero.api.wire.MachineStats;
import dev.bolero.client.BoleroClient;
import dev.bolero.core.MachineState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bolero stats [-f] [MACHINE…]}: what machines use, as {@code docker stats} shows it. CPU is the share of one
 * CPU over the last sample interval (100% = one CPU busy); network and block I/O are totals since the VMM started.
 */
@Command(name = "stats", mixinStandardHelpOptions = true,
        description = "Show what machines use: CPU, memory, network and block I/O (all running machines by default).")
final class StatsCommand implements Callable<Integer> {
    static final List<String> COLUMNS = List.of("ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O",
            "BLOCK I/O");
    /** The window asked for: the node samples every 10 s, so this holds the sample before the current one. */
    private static final int WINDOW_S = 20;

    @Mixin ClientOptions o;
    @Option(names = {"-f", "--follow"}, description = "refresh every 2 s until interrupted") boolean follow;
    @Parameters(arity = "0..*", paramLabel = "MACHINE", description = "ids, unique id prefixes or names")
    List<String> refs = List.of();

    @Override
    public Integer call() throws InterruptedException {
        BoleroClient client = o.client();
        String ns = o.namespace();
        List<ClusterMachine> machines = machines(client, ns);
        do {
            var rows = new ArrayList<Row>();
            for (ClusterMachine m : machines) rows.add(new Row(m, client.stats(ns, m.id(), WINDOW_S)));
            if (follow && o.output == ClientOptions.Output.TABLE) System.out.print("\033[H\033[2J");
            o.print(rows.stream().map(Row::stats).toList(), rows, COLUMNS, Row::cells);
            if (follow) Thread.sleep(Duration.ofSeconds(2));
        } while (follow);
        return 0;
    }

    private List<ClusterMachine> machines(BoleroClient client, String ns) {
        if (refs.isEmpty()) return client.machines(ns, null, Set.of(MachineState.RUNNING));
        var byRef = MachineRefs.of(client, ns);
        return refs.stream().map(r -> client.machine(ns, byRef.id(r))).toList();
    }

    /** One machine's line. */
    record Row(ClusterMachine machine, MachineStats stats) {
        List<Object> cells() {
            var samples = stats.samples();
            if (samples.isEmpty()) return Arrays.asList(machine.id(), machine.name(), null, null, null, null, null);
            MachineStats.Sample now = samples.getLast();
            String cpu = samples.size() < 2 ? null : String.format(Locale.ROOT, "%.1f%%", cpuPercent(
                    samples.get(samples.size() - 2), now));
            var mem = now.memory();
            String memPercent = mem.limitBytes() == 0 ? null
                    : String.format(Locale.ROOT, "%.1f%%", 100.0 * mem.bytes() / mem.limitBytes());
            return Arrays.asList(machine.id(), machine.name(), cpu, bytes(mem.bytes()) + " / "
                    + (mem.limitBytes() == 0 ? "-" : bytes(mem.limitBytes())), memPercent,
                    bytes(now.network().rxBytes()) + " / " + bytes(now.network().txBytes()),
                    bytes(now.disk().readBytes()) + " / " + bytes(now.disk().writeBytes()));
        }
    }

    /** CPU use between two samples, in percent of one CPU. */
    static double cpuPercent(MachineStats.Sample before, MachineStats.Sample after) {
        double seconds = Duration.between(before.time(), after.time()).toNanos() / 1e9;
        if (seconds <= 0) return 0;
        return Math.max(0, after.cpu().seconds() - before.cpu().seconds()) / seconds * 100;
    }

    /** {@code 1.5MiB}, as docker prints sizes. */
    static String bytes(long n) {
        if (n < 1024) return n + "B";
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int unit = -1;
        while (v >= 1024 && unit < units.length - 1) {
            v /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f%s", v, units[unit]);
    }
}
