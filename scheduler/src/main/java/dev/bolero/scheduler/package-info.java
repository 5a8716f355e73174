/**
 * The pure scheduler of the control plane.
 *
 * <p>{@link dev.bolero.scheduler.Scheduler} turns a {@link dev.bolero.scheduler.ClusterSnapshot} and
 * {@link dev.bolero.scheduler.PlacementRequest}s into {@link dev.bolero.scheduler.PlacementDecision}s;
 * {@link dev.bolero.scheduler.PlanApplier} re-checks a {@link dev.bolero.scheduler.Plan} against the latest snapshot
 * and says which placements to commit and which to retry. Nothing here does I/O, reads a clock or logs: time comes in
 * as an argument and randomness as a seed.
 */
package dev.bolero.scheduler;
