"""The parts of `hp dr drill ENV` on AWS (ops/dr_drill.py runs them): the temporary database
(restore.py), its verification task (verify.py), and the checks of the other copies
(copies.py)."""
