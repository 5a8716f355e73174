package dev.bolero.cli;

import dev.bolero.client.ClientException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bolero}: the entry point of the distribution ({@code bin/bolero}). */
@Command(
        name = "bolero",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Runs OCI images as microVMs.",
        subcommands = {AgentCommand.class, ServerCommand.class, UpCommand.class, GatewayCommand.class, ClusterCommands.Run.class,
            ClusterCommands.Ps.class, ClusterCommands.Inspect.class, ClusterCommands.Start.class,
            ClusterCommands.Suspend.class, ClusterCommands.Update.class, ClusterCommands.Fork.class,
            ClusterCommands.Stop.class, ClusterCommands.Rm.class, ClusterCommands.Logs.class, ClusterCommands.Nodes.class,
            ClusterCommands.Namespaces.class, ClusterCommands.Fleets.class, ClusterCommands.Tokens.class,
            ClusterCommands.Secrets.class, ClusterCommands.Scale.class, DeployCommands.Deploy.class,
            DeployCommands.Rollback.class, DeployCommands.Releases.class, AuditCommand.class, StatsCommand.class,
            ContextCommand.class, MachineVerbs.Wait.class, MachineVerbs.Events.class, MachineVerbs.Restart.class,
            ClusterCommands.Volumes.class, ClusterCommands.Quota.class,
            ImagesCommand.class, CompletionCommand.class, ExecCommand.class, CertsCommand.class})
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        try {
            LogFormat.fromEnvironment();
        } catch (IllegalArgumentException e) {
            System.err.println("bolero: " + e.getMessage());
            System.exit(2);
        }
        System.exit(new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true)
                .setExecutionExceptionHandler(Main::exitCode).execute(args));
    }

    /**
     * Exit codes scripts can use: 1 error, 2 usage, 3 not found, 4 unauthenticated or forbidden, 5 server
     * unreachable, 6 conflict, 7 over the namespace's quota.
     */
    static int exitCode(Exception e, CommandLine command, CommandLine.ParseResult parsed) {
        return report(e, command.getErr());
    }

    /** Prints {@code e} as one line on {@code err} and returns its exit code ({@link #exitCode}). */
    static int report(Exception e, java.io.PrintWriter err) {
        err.println("bolero: " + (e.getMessage() != null ? e.getMessage()
                : "unexpected error (set BOLERO_DEBUG=1 for its trace)"));
        if (System.getenv("BOLERO_DEBUG") != null) e.printStackTrace(err);
        err.flush();
        return switch (e) {
            case ClientException c -> switch (c.code()) {
                case "not_found" -> 3;
                case "unauthenticated", "permission_denied" -> 4;
                case "unavailable" -> 5;
                case "conflict" -> 6;
                case "quota_exceeded" -> 7;
                default -> 1;
            };
            case MachineRefs.NoSuchMachineException n -> 3;
            case CommandLine.ParameterException p -> 2;
            case IllegalArgumentException i -> 2;
            default -> 1;
        };
    }

    /** The version from the jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"bolero " + (v == null ? "dev" : v)};
        }
    }
}
