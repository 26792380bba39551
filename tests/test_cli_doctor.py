"""`workshop doctor` tells a broken environment (exit 3) from broken code (exit 1)."""

DEAD_POSTGRES = {
    "WORKSHOP_POSTGRES_URL": "postgresql://postgres@127.0.0.1:1/postgres",
    "WORKSHOP_NO_EMBEDDED": "1",
}


def test_doctor_names_a_missing_postgres_in_one_sentence_and_exits_3(run_workshop):
    finished = run_workshop("doctor", env=DEAD_POSTGRES)

    assert finished.returncode == 3, finished.stdout + finished.stderr
    postgres_line = next(line for line in finished.stdout.splitlines() if "PostgreSQL" in line)
    assert postgres_line.startswith("[FAIL]")
    assert "PostgreSQL does not answer at 127.0.0.1:1" in postgres_line
    assert "start that server, or unset WORKSHOP_POSTGRES_URL" in postgres_line
    assert "Your environment is not ready" in finished.stdout
    assert "Traceback" not in finished.stdout + finished.stderr


def test_doctor_for_chapter_01_does_not_need_postgres(run_workshop):
    finished = run_workshop("doctor", "01", env=DEAD_POSTGRES)

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "not needed by chapter 01" in finished.stdout
    assert "[pass] Your code (chapters/01-config)" in finished.stdout


def test_doctor_blames_the_code_when_the_app_does_not_import(run_workshop, workshop_root):
    (workshop_root / "chapters/01-config/app/main.py").write_text("import this_is_a_typo\n")

    finished = run_workshop("doctor", "01")

    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert "ModuleNotFoundError: No module named 'this_is_a_typo'" in finished.stdout
    assert "Your environment is ready; your code is what fails." in finished.stdout
