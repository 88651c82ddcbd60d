//! pip requirements files and PEP 508 requirements, evaluated for the target (DESIGN.md §1).
