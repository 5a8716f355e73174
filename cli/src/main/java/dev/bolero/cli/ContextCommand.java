package dev.bolero.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bolero context ls|use|add|rm}: the named control planes of the config file ({@link CliConfig}). Tokens are
 * never printed.
 */
@Command(name = "context", mixinStandardHelpOptions = true,
        description = "List, add, remove or switch the named control planes the CLI talks to.")
final class ContextCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "ACTION", description = "ls, use, add or rm") String action;
    @Parameters(index = "1", arity = "0..1", paramLabel = "NAME") String name;
    @Option(names = "--server", description = "with add: the control plane's URL") String server;
    @Option(names = "--token", description = "with add: its bearer token (read from standard input when absent)")
    String token;
    @Option(names = {"-n", "--namespace"}, description = "with add: the namespace (default 'default')")
    String namespace;

    @Override
    public Integer call() throws java.io.IOException {
        CliConfig config = CliConfig.load().orElse(new CliConfig(null, Map.of()));
        switch (action) {
            case "ls" -> {
                var rows = new ArrayList<List<Object>>();
                config.contexts().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> rows.add(
                        Arrays.asList(e.getKey().equals(config.current()) ? "*" : "", e.getKey(),
                                e.getValue().server(), e.getValue().namespace())));
                var out = new ClientOptions();
                out.output = ClientOptions.Output.TABLE;
                out.print(rows, rows, List.of("CURRENT", "NAME", "SERVER", "NAMESPACE"), r -> r);
            }
            case "use" -> {
                config.use(required()).store();
                System.out.println("using context " + name);
            }
            case "add" -> {
                if (server == null) throw new IllegalArgumentException("context add: --server is required");
                String t = token != null ? token
                        : new String(System.in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
                if (t.isEmpty()) throw new IllegalArgumentException("context add: a token is required (--token or "
                        + "standard input)");
                config.with(required(), new CliConfig.Context(server, t, namespace == null ? "default" : namespace),
                        false).store();
            }
            case "rm" -> config.without(required()).store();
            default -> throw new IllegalArgumentException("context: unknown action " + action + " (ls, use, add, rm)");
        }
        return 0;
    }

    private String required() {
        if (name == null) throw new IllegalArgumentException("context " + action + ": NAME is required");
        return name;
    }
}
