package dev.bolero.cli;

import dev.bolero.api.wire.AuditEntry;
import dev.bolero.client.AuditFilter;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bolero audit [verify]}: the namespace's audit log (or the cluster's, as admin), and the check of its hash
 * chain.
 */
@Command(name = "audit", mixinStandardHelpOptions = true,
        description = "Show the namespace's audit log of mutating calls, or verify its hash chain ('audit verify').")
final class AuditCommand implements Callable<Integer> {
    private static final List<String> COLUMNS = List.of("SEQ", "TIME", "ACTION", "OBJECT", "STATUS", "TOKEN",
            "SOURCE");

    @Mixin ClientOptions o;
    @Parameters(index = "0", arity = "0..1", paramLabel = "verify",
            description = "verify the chain from its first entry instead of listing it") String verb;
    @Option(names = "--cluster", description = "the cluster's own log (namespaces, nodes; admin)") boolean cluster;
    @Option(names = "--since", description = "only entries from this time (RFC 3339 or Unix seconds)") String since;
    @Option(names = "--until", description = "only entries before this time (RFC 3339 or Unix seconds)") String until;
    @Option(names = "--action", description = "only entries of this operation, e.g. createMachine") String action;
    @Option(names = "--head", paramLabel = "SEQ:HASH", description = "with verify: a head printed by an earlier "
            + "verify, which the chain must still hold (finds entries removed from its end)") String head;

    @Override
    public Integer call() {
        String ns = cluster ? null : o.namespace();
        String which = cluster ? "the cluster's audit log" : "the audit log of " + ns;
        if (verb == null) {
            if (head != null) throw new IllegalArgumentException("--head goes with 'audit verify'");
            var entries = o.client().audit(ns, new AuditFilter(Optional.ofNullable(since),
                    Optional.ofNullable(until), Optional.ofNullable(action)));
            o.print(entries, entries, COLUMNS, e -> Arrays.asList(e.seq(), e.time(), e.action(), e.object(),
                    e.status(), e.tokenId(), e.source()));
            return 0;
        }
        if (!"verify".equals(verb)) throw new IllegalArgumentException("audit: unknown verb " + verb + " (verify)");
        if (since != null || until != null || action != null) {
            throw new IllegalArgumentException("audit verify reads the whole chain: drop --since, --until, --action");
        }
        List<AuditEntry> chain = o.client().audit(ns, AuditFilter.all());
        var broken = AuditEntry.verify(chain);
        if (broken.isPresent()) throw new IllegalStateException(which + " does not verify: " + broken.get().reason());
        if (head != null) checkHead(chain, which);
        if (chain.isEmpty()) {
            System.out.println(which + ": no entries");
        } else {
            AuditEntry last = chain.getLast();
            System.out.println(which + ": " + chain.size() + " entries verified; head " + last.seq() + ":"
                    + last.hash());
        }
        return 0;
    }

    /** Fails unless the chain holds the entry {@code --head} names, with that hash. */
    private void checkHead(List<AuditEntry> chain, String which) {
        String[] parts = head.split(":", 2);
        long seq;
        try {
            seq = Long.parseLong(parts[0]);
        } catch (NumberFormatException e) {
            seq = 0;
        }
        if (parts.length != 2 || seq < 1) throw new IllegalArgumentException("--head must be SEQ:HASH, got " + head);
        if (seq > chain.size() || !chain.get((int) (seq - 1)).hash().equals(parts[1])) {
            throw new IllegalStateException(which + " does not verify: it no longer holds entry " + seq
                    + " with hash " + parts[1] + " (entries were removed or rewritten)");
        }
    }
}
