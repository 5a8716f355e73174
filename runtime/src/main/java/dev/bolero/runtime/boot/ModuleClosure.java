package dev.bolero.runtime.boot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The kernel modules a set of root modules needs, in load order: hard dependencies from {@code modules.dep} and
 * {@code pre:} soft dependencies from {@code modules.softdep} (resolved through {@code modules.alias}, preferring a
 * {@code *_generic} implementation when an alias has several). Modules built into the kernel are skipped.
 */
final class ModuleClosure {
    private final Path modulesDir;
    private final Map<String, String> fileByName = new HashMap<>();
    private final Map<String, List<String>> depsByName = new HashMap<>();
    private final Map<String, List<String>> preByName = new HashMap<>();
    private final Map<String, List<String>> modulesByAlias = new HashMap<>();
    private final Set<String> builtin = new java.util.HashSet<>();

    private ModuleClosure(Path modulesDir) {
        this.modulesDir = modulesDir;
    }

    /** Module name as the kernel knows it: file name without {@code .ko[.xz|.zst|.gz]}, {@code -} as {@code _}. */
    static String moduleName(String file) {
        String base = file.substring(file.lastIndexOf('/') + 1);
        int ko = base.indexOf(".ko");
        return (ko < 0 ? base : base.substring(0, ko)).replace('-', '_');
    }

    static ModuleClosure load(Path modulesDir) throws IOException {
        var c = new ModuleClosure(modulesDir);
        Path dep = modulesDir.resolve("modules.dep");
        if (!Files.isRegularFile(dep)) throw new IOException("kernel modules: no modules.dep in " + modulesDir);
        for (String line : Files.readAllLines(dep)) {
            int colon = line.indexOf(':');
            if (colon < 0) continue;
            String file = line.substring(0, colon).trim();
            String name = moduleName(file);
            c.fileByName.put(name, file);
            List<String> deps = new ArrayList<>();
            for (String d : line.substring(colon + 1).trim().split("\\s+")) {
                if (!d.isEmpty()) deps.add(moduleName(d));
            }
            c.depsByName.put(name, deps);
        }
        Path soft = modulesDir.resolve("modules.softdep");
        if (Files.isRegularFile(soft)) {
            for (String line : Files.readAllLines(soft)) {
                String[] w = line.trim().split("\\s+");
                if (w.length < 3 || !w[0].equals("softdep")) continue;
                boolean pre = false;
                for (int i = 2; i < w.length; i++) {
                    if (w[i].endsWith(":")) pre = w[i].equals("pre:");
                    else if (pre) c.preByName.computeIfAbsent(moduleName(w[1]), k -> new ArrayList<>()).add(w[i]);
                }
            }
        }
        Path alias = modulesDir.resolve("modules.alias");
        if (Files.isRegularFile(alias)) {
            for (String line : Files.readAllLines(alias)) {
                String[] w = line.trim().split("\\s+");
                if (w.length == 3 && w[0].equals("alias")) {
                    c.modulesByAlias.computeIfAbsent(w[1], k -> new ArrayList<>()).add(moduleName(w[2]));
                }
            }
        }
        Path builtinList = modulesDir.resolve("modules.builtin");
        if (Files.isRegularFile(builtinList)) {
            for (String line : Files.readAllLines(builtinList)) c.builtin.add(moduleName(line.trim()));
        }
        return c;
    }

    /**
     * The files of {@code roots} and everything they need, dependencies first.
     *
     * @throws IOException when a root module is neither a module nor built in
     */
    List<Path> resolve(List<String> roots) throws IOException {
        var order = new LinkedHashSet<String>();
        for (String root : roots) visit(moduleName(root), order, new LinkedHashSet<>(), true);
        List<Path> files = new ArrayList<>();
        for (String name : order) files.add(modulesDir.resolve(fileByName.get(name)));
        return files;
    }

    private void visit(String name, Set<String> order, Set<String> path, boolean required) throws IOException {
        if (order.contains(name) || builtin.contains(name)) return;
        if (!fileByName.containsKey(name)) {
            if (required) throw new IOException("kernel modules: " + name + " is neither a module nor built in under " + modulesDir);
            return;
        }
        if (!path.add(name)) throw new IOException("kernel modules: dependency cycle through " + path);
        for (String pre : preByName.getOrDefault(name, List.of())) {
            String resolved = resolveAlias(pre);
            if (resolved != null) visit(resolved, order, path, false);
        }
        List<String> deps = depsByName.getOrDefault(name, List.of());
        // modules.dep lists the closure with the most basic module last: load from the end.
        for (int i = deps.size() - 1; i >= 0; i--) visit(deps.get(i), order, path, true);
        path.remove(name);
        order.add(name);
    }

    private String resolveAlias(String nameOrAlias) {
        String asModule = moduleName(nameOrAlias);
        if (fileByName.containsKey(asModule) || builtin.contains(asModule)) return asModule;
        List<String> candidates = modulesByAlias.getOrDefault(nameOrAlias, List.of());
        return candidates.stream()
                .filter(m -> m.endsWith("_generic"))
                .findFirst()
                .orElse(candidates.isEmpty() ? null : candidates.getFirst());
    }
}
