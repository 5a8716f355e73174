package dev.bolero.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code bolero completion [bash|zsh|fish]}: prints a completion script. Bash's is picocli's (zsh runs it through
 * {@code bashcompinit}); fish's is written here from the same command model: the verbs, then each verb's options.
 */
@Command(name = "completion", mixinStandardHelpOptions = true,
        description = "Print the completion script: bash (default; zsh with bashcompinit) or fish "
                + "('bolero completion fish | source').")
final class CompletionCommand implements Callable<Integer> {
    enum Shell { BASH, ZSH, FISH }

    @Spec CommandSpec spec;
    @Parameters(arity = "0..1", paramLabel = "SHELL", defaultValue = "bash", description = "bash, zsh or fish")
    Shell shell;

    @Override
    public Integer call() {
        CommandLine root = spec.root().commandLine();
        System.out.print(shell == Shell.FISH ? fish(root) : AutoComplete.bash("bolero", root));
        return 0;
    }

    /** A fish script completing {@code root}'s verbs and each verb's long and short options. */
    static String fish(CommandLine root) {
        var out = new StringBuilder("# bolero completion for fish: bolero completion fish | source\n");
        out.append("complete -c bolero -f\n");
        root.getSubcommands().forEach((name, sub) -> {
            out.append("complete -c bolero -n __fish_use_subcommand -a ").append(name).append(" -d ")
                    .append(quote(first(sub.getCommandSpec().usageMessage().description()))).append('\n');
            for (OptionSpec option : sub.getCommandSpec().options()) {
                out.append("complete -c bolero -n '__fish_seen_subcommand_from ").append(name).append('\'');
                for (String n : option.names()) {
                    out.append(n.startsWith("--") ? " -l " + n.substring(2) : " -s " + n.substring(1));
                }
                if (option.arity().max() > 0) out.append(" -r");
                out.append(" -d ").append(quote(first(option.description()))).append('\n');
            }
        });
        return out.toString();
    }

    private static String first(String[] lines) {
        return lines.length == 0 ? "" : lines[0].replaceAll("\\$\\{[A-Z-]+}", "");
    }

    /** {@code text} as a fish single-quoted string. */
    private static String quote(String text) {
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
}
