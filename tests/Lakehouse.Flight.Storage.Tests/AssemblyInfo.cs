// The storage tests run one class at a time: several classes start child processes and kill them, or scan lakes
// larger than their cache on every core, and side by side on two cores they starved each other's thread-pool work
// for minutes. One at a time the suite takes about a minute.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
