package dev.bhatti.bench;

/** One group of scenarios. Sections run in order and record into {@link Results}; a failure ends the run. */
interface Section {
    /** The heading in the console output and the report. */
    String title();

    void run(Context ctx) throws Exception;
}
