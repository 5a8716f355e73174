package dev.bolero.cli;

import dev.bolero.api.ExecRequest;
import dev.bolero.api.ExecStream;
import dev.bolero.client.ExecClient;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bolero exec [-i] [-t] MACHINE -- CMD...}: runs a command in a running machine over the exec WebSocket, at a
 * node agent ({@code --agent}) or through the control plane. Exits with the command's exit code.
 */
@Command(name = "exec", mixinStandardHelpOptions = true, description = "Run a command in a running machine.")
final class ExecCommand implements Callable<Integer> {
    @Mixin ClientOptions o;
    @Mixin AgentOption agent;
    @Option(names = {"-i", "--interactive"}, description = "pass this terminal's stdin to the command")
    boolean interactive;
    @Option(names = {"-t", "--tty"}, description = "run the command on a pseudo-terminal (this terminal in raw mode)")
    boolean tty;
    @Option(names = {"-e", "--env"}, paramLabel = "K=V") Map<String, String> env = new LinkedHashMap<>();
    @Option(names = {"-w", "--workdir"}) String workdir;
    @Option(names = {"-u", "--user"}, description = "name[:group] or uid[:gid] (default: the workload's)") String user;
    @Parameters(index = "0", paramLabel = "MACHINE",
            description = "id, unique id prefix or name (on a node with --node: its id)") String machine;
    @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD") List<String> cmd;

    @Override
    public Integer call() throws InterruptedException {
        var request = new ExecRequest(cmd, env, workdir, user, null, null);
        return TerminalSession.run("exec", interactive, tty, size -> connect(tty
                ? new ExecStream.Start(request, true, size.rows(), size.cols()) : ExecStream.Start.pipes(request)));
    }

    private ExecClient connect(ExecStream.Start start) {
        Optional<URI> node = agent.node();
        URI uri;
        Optional<String> auth;
        if (node.isPresent()) {
            uri = TerminalSession.websocket(node.get(), "/api/v1/machines/" + TerminalSession.enc(machine) + "/exec");
            auth = Optional.empty();
        } else {
            ClientOptions.Endpoint e = o.endpoint();
            String id = MachineRefs.of(o.client(), o.namespace()).id(machine);
            uri = TerminalSession.websocket(e.server(), "/v1/namespaces/" + TerminalSession.enc(o.namespace())
                    + "/machines/" + TerminalSession.enc(id) + "/exec");
            auth = Optional.of("Bearer " + e.token());
        }
        return ExecClient.connect(uri, auth, start, TerminalSession.STDIO);
    }
}
