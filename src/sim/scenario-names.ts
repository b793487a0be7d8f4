/** The scenarios of fixtures/scenarios/ that `--scenario` takes by name (a leaf, so that --help need not load the simulator). */
export const BUILT_IN_SCENARIOS = ["village", "apartment-block", "business-park", "mixed-cadence"] as const;
