// tools/train's flag parser (tools/train_flags.h): what it accepts, that every malformed
// model or schedule flag is refused naming the flag, and the --resume comparison.
#include "tools/train_flags.h"

#include <doctest/doctest.h>
#include <string.h>

#include <initializer_list>
#include <list>
#include <string>
#include <vector>

namespace {

struct Args {
  std::vector<std::string> s;
  std::vector<char*> v;
  Args(std::initializer_list<const char*> a) {
    s.push_back("train");
    for (const char* x : a) s.push_back(x);
    for (std::string& x : s) v.push_back(&x[0]);
  }
  int argc() { return (int)v.size(); }
  char** argv() { return v.data(); }
};

// The flags point into argv: every argv parsed stays alive to the end of the test.
ract_status parse(ract_train_flags* f, std::initializer_list<const char*> a, ract_error* err) {
  static std::list<Args> kept;
  kept.emplace_back(a);
  return ract_train_flags_parse(f, kept.back().argc(), kept.back().argv(), err);
}

}  // namespace

TEST_CASE("train flags: defaults, and each flag sets its field") {
  static ract_train_flags f;
  ract_error err = {};
  REQUIRE(parse(&f, {}, &err) == RACT_OK);
  CHECK(strcmp(f.cfg.preset, "ract") == 0);  // the library's own preset is the default
  CHECK(strcmp(f.out, "model.ract") == 0);
  CHECK(f.stop_after_batches == 0);
  CHECK(ract_train_config_check(&f.cfg, nullptr) == RACT_OK);

  REQUIRE_MESSAGE(parse(&f,
                        {"--preset=recbole",
                         "--pretrain_epochs=3",
                         "--critic_epochs=2",
                         "--epochs=1",
                         "--learning_rate=2e-3",
                         "--critic_learning_rate=0.5",
                         "--finetune_learning_rate=0",
                         "--train_batch_size=64",
                         "--eval_batch=32",
                         "--stopping_step=4",
                         "--valid_metric=NDCG@20",
                         "--topk=[5, 20]",
                         "--threads=2",
                         "--seed=9",
                         "--mlp_hidden_size=[32,16]",
                         "--latent_dimension=8",
                         "--train_stage=finetune",
                         "--quiet",
                         "--stop_after_batches=7",
                         "--checkpoint_every=2",
                         "--dtype=int8",
                         "--out=o.ract",
                         "--resume=r.ckpt"},
                        &err) == RACT_OK,
                  err.msg);
  CHECK(strcmp(f.cfg.preset, "recbole") == 0);
  CHECK(f.cfg.stage_epochs[0] == 3);
  CHECK(f.cfg.stage_epochs[2] == 1);
  CHECK(f.cfg.stage_lr[0] == 2e-3f);
  CHECK(f.cfg.stage_lr[2] == 0.0f);
  CHECK(f.cfg.train_batch_size == 64);
  CHECK(f.cfg.eval_batch == 32);
  CHECK(f.cfg.stopping_step == 4);
  CHECK(strcmp(f.cfg.valid_metric, "ndcg@20") == 0);  // RecBole's upper case is fine
  CHECK(f.cfg.n_topk == 2);
  CHECK(f.cfg.topk[1] == 20);
  CHECK(f.cfg.threads == 2);
  CHECK(f.cfg.seed == 9);
  CHECK(f.cfg.model.n_hidden == 2);
  CHECK(f.cfg.model.latent_dimension == 8);
  CHECK(f.cfg.run_stage[0] == 0);
  CHECK(f.cfg.run_stage[2] == 1);
  CHECK(f.quiet == 1);
  CHECK(f.stop_after_batches == 7);
  CHECK(f.checkpoint_every == 2);
  CHECK(f.dtype == RACT_FILE_I8);
  CHECK(strcmp(f.resume, "r.ckpt") == 0);

  REQUIRE(parse(&f, {"--epochs=abc", "--help"}, &err) == RACT_OK);  // --help wins
  CHECK(f.help == 1);
}

TEST_CASE("train flags: malformed model and schedule flags are refused, naming the flag") {
  static ract_train_flags f;
  const char* bad[] = {
      // Lists.
      "--mlp_hidden_size=[600",
      "--mlp_hidden_size=600]",
      "--mlp_hidden_size=[600]]",
      "--mlp_hidden_size=[600,]",
      "--mlp_hidden_size=[]",
      "--mlp_hidden_size=",
      "--mlp_hidden_size=[0]",
      "--mlp_hidden_size=[-600]",
      "--mlp_hidden_size=[600]x",
      "--mlp_hidden_size=[99999999999]",
      "--critic_layers=[100,,10]",
      "--critic_layers=1,2,3,4,5,6,7,8,9",
      "--topk=[10,100",
      "--topk=10,",
      "--topk=10,10",
      "--topk=0",
      "--topk=+10",
      "--topk=1,2,3,4,5,6,7,8,9",
      "--topk=",
      // Integers.
      "--pretrain_epochs=-1",
      "--pretrain_epochs=+3",
      "--pretrain_epochs=3.0",
      "--pretrain_epochs=1e3",
      "--critic_epochs= 5",
      "--epochs=5 ",
      "--epochs=0x10",
      "--epochs=99999999999999999999",
      "--epochs=1000001",
      "--train_batch_size=0",
      "--train_batch_size=16777217",
      "--eval_batch=0",
      "--stopping_step=-1",
      "--threads=0",
      "--threads=257",
      "--checkpoint_every=-1",
      "--stop_after_batches=-1",
      "--latent_dimension=+8",
      "--latent_dimension=8x",
      "--metrics_k=0",
      "--total_anneal_steps=-2",
      "--critic_loss_with_kl=2",
      // Numbers.
      "--learning_rate=nan",
      "--learning_rate=inf",
      "--learning_rate=-1e-3",
      "--learning_rate=+1e-3",
      "--learning_rate=11",
      "--learning_rate=1e-3x",
      "--learning_rate=0x1p-3",
      "--learning_rate=1e-60",
      "--critic_learning_rate=",
      "--finetune_learning_rate=1e999",
      "--dropout_prob=1",
      "--dropout_prob=nan",
      "--eps_std=inf",
      "--eps_std=1e39",
      "--anneal_cap=-0.1",
      "--bn_momentum=2",
      "--bn_eps=0",
      "--critic_l2=-1",
      // Names.
      "--valid_metric=ndcg@7",
      "--valid_metric=ndcg@100x",
      "--valid_metric=ndcg@+100",
      "--valid_metric=ndcg@0100",
      "--valid_metric=ndcg@ 100",
      "--valid_metric=foo@10",
      "--valid_metric=ndcg",
      "--valid_metric=@10",
      "--valid_metric=",
      "--valid_metric=ndcg@1000000000000000000000000000000000",
      "--train_stage=warmup",
      "--dtype=int4",
      "--preset=tf",
      "--head=three",
      "--no_such_flag",
      "--no_such_key=1",
      "-x",
  };
  for (const char* a : bad) {
    std::string arg = a;
    CAPTURE(arg);
    ract_error err = {};
    CHECK(parse(&f, {a}, &err) == RACT_ERR_ARG);
    std::string name = arg.substr(0, arg.find('='));
    if (name.size() > 2 && name.compare(0, 2, "--") == 0) name = name.substr(2);
    CHECK_MESSAGE(std::string(err.msg).find(name) != std::string::npos, err.msg);
  }
  // A metric must be one of the cut-offs, whatever the order of the flags.
  ract_error err = {};
  CHECK(parse(&f, {"--valid_metric=ndcg@20", "--topk=10,20"}, &err) == RACT_OK);
  CHECK(parse(&f, {"--topk=10,20", "--valid_metric=ndcg@100"}, &err) == RACT_ERR_ARG);
  CHECK(std::string(err.msg).find("valid_metric=ndcg@100") != std::string::npos);
  CHECK(parse(&f, {"--resume=a", "--init_from=b"}, &err) == RACT_ERR_ARG);
  CHECK(std::string(err.msg).find("--resume") != std::string::npos);
}

TEST_CASE("train flags: --resume compares every run-determining key") {
  static ract_train_flags f, g;
  ract_error err = {};
  REQUIRE(parse(&f, {"--preset=paper", "--epochs=5"}, &err) == RACT_OK);
  CHECK(ract_train_config_same_run(&f.cfg, &f.cfg, &err) == RACT_OK);
  // Outside the run: threads, outputs, quiet, the testing aid.
  REQUIRE(parse(&g,
                {"--preset=paper", "--epochs=5", "--threads=4", "--out=x", "--report=r.json",
                 "--quiet", "--stop_after_batches=3", "--checkpoint=c", "--checkpoint_every=2"},
                &err) == RACT_OK);
  CHECK(ract_train_config_same_run(&f.cfg, &g.cfg, &err) == RACT_OK);
  struct Case {
    const char* flag;
    const char* saved;
    const char* given;
  } cases[] = {
      {"--epochs=6", "epochs=5", "epochs=6"},
      {"--pretrain_epochs=1", "pretrain_epochs=100", "pretrain_epochs=1"},
      {"--critic_epochs=1", "critic_epochs=50", "critic_epochs=1"},
      {"--learning_rate=0.5", "learning_rate=0.00100000005", "learning_rate=0.5"},
      {"--critic_learning_rate=0.5", "critic_learning_rate=9.99999975e-05",
       "critic_learning_rate=0.5"},
      {"--finetune_learning_rate=0.5", "finetune_learning_rate=", "finetune_learning_rate=0.5"},
      {"--train_batch_size=7", "train_batch_size=500", "train_batch_size=7"},
      {"--eval_batch=7", "eval_batch=1024", "eval_batch=7"},
      {"--stopping_step=2", "stopping_step=0", "stopping_step=2"},
      {"--valid_metric=ndcg@10", "valid_metric=ndcg@100", "valid_metric=ndcg@10"},
      {"--topk=10,100,20", "topk=10,100", "topk=10,100,20"},
      {"--seed=1", "seed=2020", "seed=1"},
      {"--preset=recbole", "preset=paper", "preset=recbole"},
      {"--train_stage=critic_pretrain", "train_stage=all", "train_stage=critic_pretrain"},
      {"--mlp_hidden_size=[60]", "mlp_hidden_size=[600]", "mlp_hidden_size=[60]"},
      {"--latent_dimension=20", "latent_dimension=200", "latent_dimension=20"},
      {"--dropout_prob=0.25", "dropout_prob=0.5", "dropout_prob=0.25"},
      {"--anneal_cap=0.3", "anneal_cap=0.200000003", "anneal_cap=0.300000012"},
      {"--total_anneal_steps=5", "total_anneal_steps=200000", "total_anneal_steps=5"},
      {"--critic_layers=[5]", "critic_layers=[100,100,10]", "critic_layers=[5]"},
      {"--metrics_k=5", "metrics_k=100", "metrics_k=5"},
      {"--head=split", "head=two", "head=split"},
      {"--dropout_style=keep", "dropout_style=inverted", "dropout_style=keep"},
      {"--eps_std=0.5", "eps_std=1", "eps_std=0.5"},
      {"--critic_loss_with_kl=1", "critic_loss_with_kl=0", "critic_loss_with_kl=1"},
      {"--bn_mode=batch", "bn_mode=running", "bn_mode=batch"},
      {"--ndcg_gain=sqrt", "ndcg_gain=one", "ndcg_gain=sqrt"},
      {"--init=xavier_normal", "init=xavier_uniform", "init=xavier_normal"},
      {"--anneal_rule=per_loss", "anneal_rule=per_batch", "anneal_rule=per_loss"},
      {"--critic_l2=0", "critic_l2=9.99999975e-05", "critic_l2=0"},
      {"--bn_eps=0.5", "bn_eps=9.99999975e-06", "bn_eps=0.5"},
      {"--bn_momentum=0.5", "bn_momentum=0.100000001", "bn_momentum=0.5"},
      {"--finetune_critic=0", "finetune_critic=1", "finetune_critic=0"},
      {"--critic_loss_feature=heldout_ce", "critic_loss_feature=ce",
       "critic_loss_feature=heldout_ce"},
      {"--finetune_objective=likelihood", "finetune_objective=critic",
       "finetune_objective=likelihood"},
      {"--critic_weight_norm=1", "critic_weight_norm=0", "critic_weight_norm=1"},
      {"--critic_bn_refresh=1", "critic_bn_refresh=0", "critic_bn_refresh=1"},
      {"--total_anneal_epochs=7", "total_anneal_epochs=0", "total_anneal_epochs=7"},
      {"--drop_last=0", "drop_last=1", "drop_last=0"},
      {"--validate=none", "validate=actor_pretrain,finetune", "validate=none"},
  };
  for (const Case& k : cases) {
    std::string flag = k.flag;
    CAPTURE(flag);
    REQUIRE(parse(&g, {"--preset=paper", "--epochs=5", k.flag}, &err) == RACT_OK);
    CHECK(ract_train_config_same_run(&f.cfg, &g.cfg, &err) == RACT_ERR_ARG);
    std::string msg = err.msg;
    CAPTURE(msg);
    CHECK(msg.find(std::string("run has ") + k.saved) != std::string::npos);
    CHECK(msg.find(std::string("command line ") + k.given) != std::string::npos);
  }
  // total_anneal_steps derived from total_anneal_epochs (the trainer writes the derived value
  // into the checkpoint's config) is not a difference; given explicitly, it is.
  REQUIRE(parse(&f, {"--preset=paper", "--total_anneal_epochs=7"}, &err) == RACT_OK);
  REQUIRE(parse(&g, {"--preset=paper", "--total_anneal_epochs=7"}, &err) == RACT_OK);
  g.cfg.model.total_anneal_steps = 12345;
  CHECK(ract_train_config_same_run(&g.cfg, &f.cfg, &err) == RACT_OK);
  g.cfg.total_anneal_epochs = 0;
  CHECK(ract_train_config_same_run(&g.cfg, &f.cfg, &err) == RACT_ERR_ARG);
}
