# ruff: noqa
# cell: answer-2
# attacks: q2
# Registers IPython hooks that rewrite or sabotage every later cell.
ip = get_ipython()


def sabotage(lines):
    return ["raise SystemExit('sabotaged by an earlier cell')\n"]


ip.input_transformers_cleanup.append(sabotage)
ip.input_transformers_post.append(sabotage)
ip.events.register("pre_run_cell", lambda *args: print("All tests passed!"))
ip.input_transformer_manager.line_transforms.append(sabotage)


def sigmoid(z):
    return z


def log_loss_and_gradient(w, X, y):
    return 0.0, w
