package dev.bolero.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bolero}: the entry point of the distribution ({@code bin/bolero}). */
@Command(
        name = "bolero",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Runs OCI images as microVMs.",
        subcommands = {AgentCommand.class, ServerCommand.class, ImagesCommand.class})
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
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
