//! The output directory: wheels land here atomically, never replacing a good wheel with a bad one.
