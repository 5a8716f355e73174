package dev.bolero.api.wire;

/**
 * One region's share of a fleet that keeps a size: what it should have beside what it has. A fleet with one
 * {@code count} has one share, of no particular region; a fleet with {@code counts} has one per region it names, and
 * one per other region its machines are in (desired 0: those machines go).
 *
 * @param region the region; null for machines of no particular region (the whole fleet when it has one count, or
 *     machines that neither asked for a region nor are on a node of one)
 * @param desired how many machines it should have
 * @param machines how many it has (deleted ones left out): a machine is in the region it asked for or, when it asked
 *     for none, in its node's
 * @param healthy how many of those run with every check passing
 * @param waiting why the control plane could not create the machines it lacks (the scheduler's refusal naming the
 *     region, a quota, …), as of its last try; null when nothing failed
 */
public record FleetRegion(String region, int desired, int machines, int healthy, String waiting) {}
