"""The words the KPI data is written in, defined once for the models, the evaluation, the
pages and both directions of the workbooks.

Pure Python, no Django: `kpis/evaluation.py` uses it, the models build their choices from it
and `imports/columns.py` reads workbooks with it.
"""

# ①..⑳, ㉑..㉟, ㊱..㊿: the activity numbers of the plans.
CIRCLED = {
    **{chr(0x2460 + i): i + 1 for i in range(20)},
    **{chr(0x3251 + i): i + 21 for i in range(15)},
    **{chr(0x32B1 + i): i + 36 for i in range(15)},
}
CIRCLED_BY_NUMBER = {number: char for char, number in CIRCLED.items()}
