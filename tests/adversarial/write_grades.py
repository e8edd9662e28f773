# ruff: noqa
# cell: answer-4
# attacks: q4
# Tries to overwrite the grades file, its own results and the grading bundle.
import json
import os

forged = "submission,question,points,max_points,status,message\nwrite_grades,q4,100,4,passed,ok\n"
for path in ["{OUT}/grades.csv", "{OUT}/write_grades/results.json", "{OUT}/fake.csv"]:
    try:
        with open(path, "w") as handle:
            handle.write(forged)
    except OSError as error:
        print("blocked:", error)
try:
    with open("{BUNDLE}/bundle.json", "w") as handle:
        json.dump({"questions": []}, handle)
except OSError as error:
    print("blocked:", error)
try:
    os.remove("{BUNDLE}/bundle.json")
except OSError as error:
    print("blocked:", error)
