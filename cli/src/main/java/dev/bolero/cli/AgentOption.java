package dev.bolero.cli;

import java.net.URI;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * {@code --agent URL}: talk to one node agent's own API directly, without the control plane. Shared by the verbs that
 * can (exec, logs); the URL comes from the flag or {@code BOLERO_AGENT}.
 */
final class AgentOption {
    @Option(names = "--agent", description = "a node agent's URL (http://host:7070): go to it directly, without the "
            + "control plane (or BOLERO_AGENT)")
    String agent;

    /** The agent's URL when one is given; empty: go through the control plane. */
    Optional<URI> node() {
        String node = agent != null ? agent : System.getenv("BOLERO_AGENT");
        return node == null || node.isBlank() ? Optional.empty() : Optional.of(URI.create(node));
    }
}
