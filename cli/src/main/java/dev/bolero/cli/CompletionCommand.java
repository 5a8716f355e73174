package dev.bolero.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code bolero completion}: prints a bash/zsh completion script ({@code source <(bolero completion)}). */
@Command(name = "completion", mixinStandardHelpOptions = true, description = "Print the bash/zsh completion script.")
final class CompletionCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        System.out.print(AutoComplete.bash("bolero", spec.root().commandLine()));
        return 0;
    }
}
