package dev.bolero.cli;

import dev.bolero.core.MachineState;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Machine verbs Docker users expect beside {@code start} and {@code stop}: {@code wait}, {@code events}, {@code restart}. */
final class MachineVerbs {
    private MachineVerbs() {}

    private static final Set<MachineState> ENDED = Set.of(MachineState.STOPPED, MachineState.FAILED,
            MachineState.DESTROYED);

    @Command(name = "wait", mixinStandardHelpOptions = true,
            description = "Wait until machines stop, and print each one's exit code (as docker wait).")
    static final class Wait implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Parameters(paramLabel = "MACHINE", arity = "1..*", description = "ids, unique id prefixes or names")
        List<String> ids;
        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "3600",
                description = "give up after this long (default ${DEFAULT-VALUE}, at most 3600)") int timeout;

        @Override
        public Integer call() {
            return ClusterCommands.eachMachine(o, ids, (client, id) -> {
                var m = client.await(o.namespace(), id, ENDED, Duration.ofSeconds(timeout));
                System.out.println(m.exitCode() == null ? "-" : m.exitCode());
            });
        }
    }

    @Command(name = "events", mixinStandardHelpOptions = true, description = "Show a machine's life events.")
    static final class Events implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Parameters(paramLabel = "MACHINE", description = "id, unique id prefix or name") String ref;

        @Override
        public Integer call() {
            String id = MachineRefs.of(o.client(), o.namespace()).id(ref);
            var events = o.client().events(o.namespace(), id);
            o.print(events, events, List.of("TIME", "TYPE", "STATE", "EXIT", "DETAIL"), e -> Arrays.asList(e.time(),
                    e.type(), e.state().wireName(), e.exitCode(), e.detail().isEmpty() ? null : e.detail()));
            return 0;
        }
    }

    @Command(name = "restart", mixinStandardHelpOptions = true,
            description = "Stop machines (their configured signal and timeout), wait until they stopped, start them.")
    static final class Restart implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Parameters(paramLabel = "MACHINE", arity = "1..*", description = "ids, unique id prefixes or names")
        List<String> ids;

        @Override
        public Integer call() {
            return ClusterCommands.eachMachine(o, ids, (client, id) -> {
                if (client.machine(o.namespace(), id).state() == MachineState.RUNNING) {
                    client.stop(o.namespace(), id, null);
                    client.await(o.namespace(), id, ENDED, Duration.ofSeconds(600));
                }
                ClusterCommands.printMachine(o, client.start(o.namespace(), id));
            });
        }
    }
}
