//! Wheel platform tags (PEP 425, PEP 600) and their link to the target table.
