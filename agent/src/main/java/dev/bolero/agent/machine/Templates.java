package dev.bolero.agent.machine;

import dev.bolero.core.CheckStatus;
import dev.bolero.runtime.Snapshot;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.VmmDriver;
import dev.bolero.runtime.VmmException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warm starts ({@code config.warm_start}): a machine starts from its node's template of its {@link TemplateKey}
 * instead of booting, and a machine that booted leaves one when the node has none.
 *
 * <p><b>Use.</b> Before a run that would boot spawns its VMM, {@link #plant} makes the machine's snapshot from the
 * template, the way a fork's clone gets one (hard links of the saved state and frozen drive, a copy-on-write drive of
 * its own), so that the run resumes it and the guest takes the machine's own identity (hostname, MAC, address,
 * machine-id, fresh entropy). A template whose files fail their checksums, or whose snapshot no longer fits (kernel,
 * initramfs, VMM or its version, the image's root drive changed), is removed with a {@code template_discarded} event
 * naming why, and the machine boots; it never resumes a broken state.
 *
 * <p><b>Take.</b> Once a machine that booted runs its workload and the node has no template of its key (and none is
 * being taken), the template is taken when the workload is <em>up</em>: {@link #SETTLE} after the workload started,
 * and, when the machine has health checks, not before every check passes (checked again every {@link #POLL}). The
 * machine is paused while its memory and device state are saved (as for a fork), then runs on; a
 * {@code template_taken} event tells it. A run that ends first takes none.
 *
 * <p>Shared by all runners; thread-safe.
 */
final class Templates implements MachineHook {
    private static final Logger log = LoggerFactory.getLogger(Templates.class);
    /** How long after its workload started a booted machine's state is saved as a template (at the earliest). */
    static final Duration SETTLE = Duration.ofSeconds(2);
    /** How often a machine with health checks is looked at again until they all pass. */
    static final Duration POLL = Duration.ofSeconds(1);

    private final TemplateStore store;
    private final VmmDriver driver;
    private final Clock clock;
    private final Function<String, List<CheckStatus>> checks;
    /** The key of each warm-start machine's latest prepared run. */
    private final Map<String, TemplateKey> keys = new ConcurrentHashMap<>();
    /** What each prepared machine's template would be of. */
    private final Map<String, TemplateStore.Origin> origins = new ConcurrentHashMap<>();
    /** The claims of runs waiting for their workload to be up. */
    private final Map<Run, TemplateKey> pending = new ConcurrentHashMap<>();

    /** @param checks a machine's latest check results (empty without checks) */
    Templates(TemplateStore store, VmmDriver driver, Clock clock, Function<String, List<CheckStatus>> checks) {
        this.store = store;
        this.driver = driver;
        this.clock = clock;
        this.checks = checks;
    }

    /** The node's templates. */
    TemplateStore store() {
        return store;
    }

    @Override
    public void prepare(Launch launch) {
        MachineRecord m = launch.machine();
        if (!m.config().warmStart()) {
            keys.remove(m.id());
            return;
        }
        String digest = launch.image().digest().toString();
        keys.put(m.id(), TemplateKey.of(m.namespace(), m.config(), digest));
        origins.put(m.id(), new TemplateStore.Origin(m.namespace(), digest, m.id()));
    }

    /**
     * Plants the machine's snapshot from its template, when it has warm starts and the node holds a template that
     * fits: blocks (it checks the template's files). A template that does not fit is removed, with a
     * {@code template_discarded} event; nothing is planted then.
     *
     * @param dependencies the machine's own snapshot dependencies, as its resume will compare them
     * @param event records a machine event (type, detail)
     * @return the template planted, empty when the machine is to boot
     */
    Optional<TemplateStore.Template> plant(String machineId, VmSpec spec, Map<String, String> dependencies,
            BiConsumer<String, String> event) {
        TemplateKey key = keys.get(machineId);
        if (key == null) return Optional.empty();
        Optional<TemplateStore.Template> template = store.get(key);
        if (template.isEmpty()) return Optional.empty();
        Optional<String> unusable = store.damage(template.get());
        if (unusable.isEmpty()) {
            try {
                driver.plant(store.dir(key), spec.workDir(), dependencies);
                unusable = driver.snapshotUnusable(spec, dependencies);
                if (unusable.isPresent()) Snapshot.discard(spec.workDir());
            } catch (VmmException e) {
                unusable = Optional.of(e.getMessage());
            }
        }
        if (unusable.isPresent()) {
            discard(template.get(), unusable.get(), event);
            return Optional.empty();
        }
        store.touch(key, clock.instant());
        return template;
    }

    /** Removes {@code template}, which could not start a machine because of {@code why}, with an event saying so. */
    void discard(TemplateStore.Template template, String why, BiConsumer<String, String> event) {
        store.remove(template.key());
        log.warn("template={} discarded: {}", template.key(), why);
        event.accept("template_discarded", "template " + template.key() + " of image " + template.imageDigest()
                + " removed, booting instead: " + why);
    }

    @Override
    public void started(Run run) {
        TemplateKey key = keys.get(run.machineId());
        if (key == null || !run.booted()) return;
        Optional<Path> staging = store.claim(key);
        if (staging.isEmpty()) return;
        var taking = new Taking(run, key, staging.get(), origins.get(run.machineId()));
        run.schedule(SETTLE, taking::whenUp);
    }

    @Override
    public void ended(Run run, RunEnd end) {
        TemplateKey waiting = pending.remove(run);
        if (waiting != null) store.release(waiting);
    }

    @Override
    public void deleted(String machineId) {
        keys.remove(machineId);
        origins.remove(machineId);
    }

    /** A claimed template waiting for its machine's workload to be up, then taken. */
    private final class Taking {
        private final Run run;
        private final TemplateKey key;
        private final Path staging;
        private final TemplateStore.Origin origin;

        Taking(Run run, TemplateKey key, Path staging, TemplateStore.Origin origin) {
            this.run = run;
            this.key = key;
            this.staging = staging;
            this.origin = origin;
            pending.put(run, key);
        }

        /** On the mailbox: takes the template once every check passes, or looks again later. */
        void whenUp() {
            List<CheckStatus> statuses = checks.apply(run.machineId());
            if (!run.config().checks().isEmpty() && (statuses.size() < run.config().checks().size()
                    || !statuses.stream().allMatch(s -> s.status() == CheckStatus.Status.PASSING))) {
                run.schedule(POLL, this::whenUp);
                return;
            }
            pending.remove(run);
            run.seed(staging, "take a template of machine " + run.machineId()).whenComplete((done, error) -> {
                if (error != null) {
                    store.release(key);
                    run.event("template_failed", error.getMessage());
                    return;
                }
                try {
                    TemplateStore.Template t = store.add(key, origin, clock.instant());
                    log.info("machine={} template={} taken bytes={}", run.machineId(), key, t.bytes());
                    run.event("template_taken", "template " + key + " of image " + origin.imageDigest() + " ("
                            + t.bytes() / (1 << 20) + " MiB): machines like this one start from it");
                } catch (RuntimeException e) {
                    run.event("template_failed", e.getMessage());
                }
            });
        }
    }
}
