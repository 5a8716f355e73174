package dev.bolero.cli;

import dev.bolero.api.ApiJson;
import dev.bolero.client.BoleroClient;
import java.net.URI;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import picocli.CommandLine.Option;

/** The options every verb that talks to the control plane shares, and the output they print. */
final class ClientOptions {
    enum Output { TABLE, JSON }

    @Option(names = "--server", description = "control plane URL (or BOLERO_SERVER, or the config file)")
    String server;

    @Option(names = "--token", description = "bearer token (or BOLERO_TOKEN, or the config file)")
    String token;

    @Option(names = {"-n", "--namespace"}, description = "namespace (or BOLERO_NAMESPACE, or the config file; default 'default')")
    String namespace;

    @Option(names = "--context", description = "a context of the config file (or BOLERO_CONTEXT; default: its "
            + "current one, see 'bolero context')") String context;

    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table or json (default ${DEFAULT-VALUE})")
    Output output;

    BoleroClient client() {
        Endpoint e = endpoint();
        return new BoleroClient(e.server(), e.token());
    }

    /** The control plane's URL and bearer token, from the flags, the environment, or the config file. */
    record Endpoint(URI server, String token) {}

    Endpoint endpoint() {
        Optional<CliConfig.Context> file = saved();
        String url = pick(server, "BOLERO_SERVER", file.map(CliConfig.Context::server));
        String bearer = pick(token, "BOLERO_TOKEN", file.map(CliConfig.Context::token));
        if (url == null) throw new IllegalArgumentException("no server: pass --server, set BOLERO_SERVER, or run "
                + "'bolero up' (it writes " + CliConfig.file() + ")");
        if (bearer == null) throw new IllegalArgumentException("no token: pass --token or set BOLERO_TOKEN");
        return new Endpoint(URI.create(url), bearer);
    }

    String namespace() {
        String ns = pick(namespace, "BOLERO_NAMESPACE", saved().map(CliConfig.Context::namespace));
        return ns == null ? "default" : ns;
    }

    /** The context the flag, {@code BOLERO_CONTEXT} or the config file's current one names; empty without a file. */
    private Optional<CliConfig.Context> saved() {
        String name = pick(context, "BOLERO_CONTEXT", Optional.empty());
        return CliConfig.load().flatMap(c -> c.context(name));
    }

    /** Prints {@code value} as JSON, or as a table of {@code columns} with one row per element. */
    <T> void print(Object value, List<T> rows, List<String> columns, Function<T, List<Object>> cells) {
        if (output == Output.JSON) {
            System.out.println(ApiJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(value));
            return;
        }
        var table = new java.util.ArrayList<List<String>>();
        table.add(columns);
        for (T row : rows) table.add(cells.apply(row).stream().map(c -> c == null ? "-" : String.valueOf(c)).toList());
        int[] widths = new int[columns.size()];
        for (List<String> r : table) for (int i = 0; i < r.size(); i++) widths[i] = Math.max(widths[i], r.get(i).length());
        for (List<String> r : table) {
            var line = new StringBuilder();
            for (int i = 0; i < r.size(); i++) {
                line.append(i == r.size() - 1 ? r.get(i) : String.format("%-" + (widths[i] + 2) + "s", r.get(i)));
            }
            System.out.println(line.toString().stripTrailing());
        }
    }

    private static String pick(String flag, String env, Optional<String> file) {
        if (flag != null && !flag.isBlank()) return flag;
        String fromEnv = System.getenv(env);
        if (fromEnv != null && !fromEnv.isBlank()) return fromEnv;
        return file.filter(v -> !v.isBlank()).orElse(null);
    }
}
