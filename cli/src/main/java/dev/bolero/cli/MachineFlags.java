package dev.bolero.cli;

import dev.bolero.core.MachineSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The machine-config flags of {@code bolero run}, {@code bolero fleets create} and {@code bolero fleets update}: each
 * one left out leaves its field unset, so the fleet's config (or the server's default) applies.
 */
final class MachineFlags {
    @Option(names = {"-e", "--env"}, paramLabel = "K=V", description = "an environment variable; repeatable")
    Map<String, String> env = new LinkedHashMap<>();

    @Option(names = "--cpus", description = "vCPUs")
    Integer cpus;

    @Option(names = "--memory", paramLabel = "MiB", description = "memory in MiB")
    Integer memoryMb;

    @Option(names = {"-p", "--publish"}, paramLabel = "HOSTPORT:PORT[/tcp|udp]",
            description = "publish the machine's PORT on its node's HOSTPORT (tcp unless /udp); repeatable")
    List<String> publish = new ArrayList<>();

    @Option(names = "--restart", paramLabel = "no|on-failure|always[:N]",
            description = "restart policy, at most N restarts in a row; also whether the machine moves when its "
                    + "node is lost or drained (default on-failure: it moves)")
    String restart;

    @Option(names = "--rm", description = "delete the machine when its run ends and no restart applies")
    boolean remove;

    @Option(names = "--warm-start", description = "start from the node's template of this image and config instead of"
            + " booting, and leave one when it has none (config.warm_start)")
    boolean warmStart;

    @Option(names = "--metadata", paramLabel = "K=V",
            description = "a metadata entry shown with the machine; repeatable")
    Map<String, String> metadata = new LinkedHashMap<>();

    @Option(names = "--check", paramLabel = "NAME=http:PORT[/PATH]|tcp:PORT|exec:COMMAND[,interval=S][,timeout=S][,grace=S]",
            description = "a health check of the workload (e.g. web=http:8080/healthz,interval=5); repeatable")
    Map<String, String> checks = new LinkedHashMap<>();

    @Option(names = "--secret", paramLabel = "NAME=VAR|NAME=/PATH",
            description = "give the namespace's secret NAME to the workload as the variable VAR, or as the file /PATH "
                    + "(mode 0400, on a tmpfs); repeatable")
    List<String> secrets = new ArrayList<>();

    /**
     * The config these flags and {@code image} (null when not given) describe: an overlay, unset where no flag says.
     *
     * @throws IllegalArgumentException (a usage error) naming a bad value
     */
    MachineSpec.Overlay overlay(String image) {
        return MachineSpec.builder().image(image)
                .guest(cpus == null && memoryMb == null ? null : new MachineSpec.Guest(cpus, memoryMb, null))
                .env(env.isEmpty() ? null : env)
                .restart(restart == null ? null : ClusterCommands.restartPolicy(restart))
                .autoDestroy(remove ? true : null)
                .warmStart(warmStart ? true : null)
                .services(publish.isEmpty() ? null : publish.stream().map(ClusterCommands::servicePort).toList())
                .metadata(metadata.isEmpty() ? null : metadata)
                .checks(checks.isEmpty() ? null : parsedChecks())
                .secrets(secrets.isEmpty() ? null : secrets.stream().map(MachineFlags::secret).toList())
                .overlay();
    }

    /**
     * Parses one {@code --secret} value: {@code NAME=VAR} (a variable) or {@code NAME=/PATH} (a file).
     *
     * @throws IllegalArgumentException naming the value and the rule it breaks
     */
    static MachineSpec.Secret secret(String value) {
        int eq = value.indexOf('=');
        if (eq < 1 || eq == value.length() - 1) {
            throw new IllegalArgumentException("--secret " + value + ": expected NAME=VAR or NAME=/PATH");
        }
        String name = value.substring(0, eq);
        String target = value.substring(eq + 1);
        var secret = target.startsWith("/") ? MachineSpec.Secret.file(name, target) : MachineSpec.Secret.env(name, target);
        try {
            MachineSpec.builder().secret(secret).overlay();
            return secret;
        } catch (dev.bolero.core.ValidationException e) {
            throw new IllegalArgumentException("--secret " + value + ": " + e.getMessage(), e);
        }
    }

    /** {@link #overlay} over {@code base} (a fleet's config; null: none), by the one merge rule. */
    MachineSpec.Overlay overlay(String image, MachineSpec.Overlay base) {
        var config = overlay(image);
        return base == null ? config : config.over(base);
    }

    private Map<String, MachineSpec.Check> parsedChecks() {
        var parsed = new LinkedHashMap<String, MachineSpec.Check>();
        checks.forEach((name, value) -> parsed.put(name, check(name, value)));
        return parsed;
    }

    /**
     * Parses one {@code --check} value: {@code http:PORT[/PATH]}, {@code tcp:PORT} or {@code exec:COMMAND ARGS…},
     * then optional {@code ,interval=S}, {@code ,timeout=S}, {@code ,grace=S}.
     *
     * @throws IllegalArgumentException (a usage error) naming the bad value
     */
    static MachineSpec.Check check(String name, String value) {
        String[] parts = value.split(",");
        String[] kind = parts[0].split(":", 2);
        try {
            if (kind.length != 2) throw new IllegalArgumentException("expected http:, tcp: or exec: before the target");
            MachineSpec.Check check = switch (kind[0]) {
                case "http" -> {
                    int slash = kind[1].indexOf('/');
                    yield MachineSpec.Check.http(port(slash < 0 ? kind[1] : kind[1].substring(0, slash)),
                            slash < 0 ? null : kind[1].substring(slash));
                }
                case "tcp" -> MachineSpec.Check.tcp(port(kind[1]));
                case "exec" -> MachineSpec.Check.exec(kind[1].trim().split("\\s+"));
                default -> throw new IllegalArgumentException("unknown check type '" + kind[0] + "' (http, tcp, exec)");
            };
            for (int i = 1; i < parts.length; i++) {
                String[] option = parts[i].split("=", 2);
                Integer seconds = option.length == 2 ? port(option[1]) : null;
                check = switch (option[0]) {
                    case "interval" -> check.every(seconds, null, null);
                    case "timeout" -> check.every(null, seconds, null);
                    case "grace" -> check.every(null, null, seconds);
                    default -> throw new IllegalArgumentException("unknown option '" + parts[i]
                            + "' (interval=S, timeout=S, grace=S)");
                };
            }
            MachineSpec.builder().check(name, check).overlay();
            return check;
        } catch (IllegalArgumentException e) { // ValidationException is one
            throw new IllegalArgumentException("--check " + name + "=" + value + ": " + e.getMessage(), e);
        }
    }

    private static int port(String number) {
        try {
            return Integer.parseInt(number);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + number + "' is not a number", e);
        }
    }
}
