//! Autograd reaches every kind of learned value: gradients of an MSE loss with respect to hash-table
//! entries (densely indexed and hashed levels), dense-grid values, CAM scale and shift values and
//! MLP weights agree with central finite differences (relative 1e-2). A gather whose backward
//! silently dropped the gradient would give zeros here and fail.

mod common;

use common::{Kind, TestRng, random_field, random_points};
use cortexlens_data::field::{Encoding, FieldOutput, NeuralField};
use cortexlens_inference::{DType, Device, FieldModel, Tensor};

const OUTPUT: FieldOutput = FieldOutput::Intensity {
    scale: 1.0,
    offset: 0.0,
};

/// Which learned value to perturb.
#[derive(Clone, Copy, Debug)]
enum Param {
    Encoding(usize),
    CamScale(usize, usize),
    CamShift(usize, usize),
    Weight(usize, usize),
    Bias(usize, usize),
}

fn value(field: &mut NeuralField, p: Param) -> &mut f32 {
    match p {
        Param::Encoding(i) => match &mut field.encoding {
            Encoding::HashGrid(g) => &mut g.params[i],
            Encoding::Dense(g) => &mut g.values[i],
        },
        Param::CamScale(l, i) => &mut field.cam.as_mut().unwrap().grids[l].scale[i],
        Param::CamShift(l, i) => &mut field.cam.as_mut().unwrap().grids[l].shift[i],
        Param::Weight(l, i) => &mut field.layers[l].weight[i],
        Param::Bias(l, i) => &mut field.layers[l].bias[i],
    }
}

/// The test's points, targets and loss (in f64).
struct Problem {
    points: Tensor,
    x: Vec<[f32; 3]>,
    targets: Tensor,
}

impl Problem {
    fn new(field: &NeuralField) -> Self {
        let points = random_points(field, 48, 21);
        let x = points.iter().map(|p| field.normalize(*p)).collect();
        let mut rng = TestRng::new(4);
        let targets = rng.vec(points.len(), 0.0, 1.0);
        let flat: Vec<f32> = points.iter().flatten().copied().collect();
        Self {
            points: Tensor::from_vec(flat, (points.len(), 3), &Device::Cpu).unwrap(),
            x,
            targets: Tensor::from_vec(targets, (points.len(), 1), &Device::Cpu)
                .unwrap()
                .to_dtype(DType::F64)
                .unwrap(),
        }
    }

    fn loss(&self, model: &FieldModel) -> Tensor {
        use cortexlens_inference::Module;
        let out = model.forward(&self.points).unwrap();
        (out - &self.targets).unwrap().sqr().unwrap().mean_all().unwrap()
    }

    fn loss_of(&self, field: &NeuralField) -> f64 {
        let model = FieldModel::from_field_with_dtype(field, &Device::Cpu, DType::F64).unwrap();
        self.loss(&model).to_scalar::<f64>().unwrap()
    }
}

/// Compares autograd with central differences for every `param`.
fn check(field: &NeuralField, params: &[Param]) {
    let problem = Problem::new(field);
    let model = FieldModel::from_field_with_dtype(field, &Device::Cpu, DType::F64).unwrap();
    let grads = problem.loss(&model).backward().unwrap();
    let mut autograd = model.gradient_field(&grads).unwrap();
    for &p in params {
        let analytic = *value(&mut autograd, p) as f64;
        let base = *value(&mut field.clone(), p);
        let step = 1e-3 * base.abs().max(0.1);
        let (mut plus, mut minus) = (field.clone(), field.clone());
        *value(&mut plus, p) = base + step;
        *value(&mut minus, p) = base - step;
        // The perturbations actually stored in f32.
        let width = (base + step) as f64 - (base - step) as f64;
        let numeric = (problem.loss_of(&plus) - problem.loss_of(&minus)) / width;
        println!("{p:?}: autograd {analytic:.6e}, finite differences {numeric:.6e}");
        assert!(
            numeric.abs() > 1e-7,
            "{p:?}: the loss does not depend on it ({numeric:e}); pick another"
        );
        let error = (analytic - numeric).abs() / numeric.abs().max(analytic.abs());
        assert!(
            error < 1e-2,
            "{p:?}: autograd {analytic:e} vs finite differences {numeric:e}"
        );
    }
}

/// The hash-table entry (as an index into `params`) of feature `f` at the corner with the largest
/// weight of the cell holding `x` on `level`.
fn hash_entry(field: &NeuralField, x: [f32; 3], level: u32, f: usize) -> usize {
    let Encoding::HashGrid(g) = &field.encoding else {
        unreachable!()
    };
    let geometry = g.level(level);
    let corner = x.map(|c| (c * geometry.scale + 0.5).round() as u32);
    let row = level as usize * g.table_size() + g.corner_index(&geometry, corner);
    row * g.features as usize + f
}

/// The index of the vertex nearest to `x` on a dense grid of `res` vertices.
fn nearest_vertex(res: [u32; 3], x: [f32; 3]) -> usize {
    let v: [usize; 3] = std::array::from_fn(|a| (x[a] * (res[a] - 1) as f32).round() as usize);
    v[0] + res[0] as usize * (v[1] + res[1] as usize * v[2])
}

#[test]
fn hash_grid_and_cam_gradients_match_finite_differences() {
    let field = random_field(Kind::Hash, true, OUTPUT, 13);
    let x = Problem::new(&field).x;
    let cam = &field.cam.as_ref().unwrap().grids;
    let mut params = vec![
        // Level 0 and 1 are indexed densely, levels 2 and 3 hashed.
        Param::Encoding(hash_entry(&field, x[5], 0, 0)),
        Param::Encoding(hash_entry(&field, x[6], 1, 1)),
        Param::Encoding(hash_entry(&field, x[7], 2, 0)),
        Param::Encoding(hash_entry(&field, x[8], 3, 1)),
        Param::Weight(0, 3),
        Param::Weight(2, 5),
        Param::Bias(1, 2),
        Param::Bias(2, 0),
    ];
    for (layer, grid) in cam.iter().enumerate() {
        for point in [9, 10] {
            let vertex = nearest_vertex(grid.resolution, x[point]);
            params.push(Param::CamScale(layer, vertex));
            params.push(Param::CamShift(layer, vertex));
        }
    }
    check(&field, &params);
    // The same without normalising first (CAM's NeRF variant).
    let mut unnormalised = field.clone();
    unnormalised.cam.as_mut().unwrap().normalize = false;
    // Its ReLUs are live elsewhere: the grid vertices are picked among the points where the
    // loss depends on them (checked by `check`), with the MLP's parameters as above.
    let problem = Problem::new(&unnormalised);
    let moves_loss = |p: Param| {
        let mut moved = unnormalised.clone();
        *value(&mut moved, p) += 0.1;
        (problem.loss_of(&moved) - problem.loss_of(&unnormalised)).abs() > 1e-6
    };
    let mut params: Vec<Param> = params
        .into_iter()
        .filter(|p| !matches!(p, Param::Encoding(_) | Param::CamScale(..) | Param::CamShift(..)))
        .collect();
    for (layer, grid) in cam.iter().enumerate() {
        let vertices = (9..48).map(|point| nearest_vertex(grid.resolution, x[point]));
        let live: Vec<usize> = vertices
            .filter(|&v| moves_loss(Param::CamScale(layer, v)))
            .take(2)
            .collect();
        assert_eq!(live.len(), 2, "layer {layer}: grid vertices that reach the loss");
        for vertex in live {
            params.extend([Param::CamScale(layer, vertex), Param::CamShift(layer, vertex)]);
        }
    }
    check(&unnormalised, &params);
}

#[test]
fn dense_grid_gradients_match_finite_differences() {
    let field = random_field(Kind::Dense, true, OUTPUT, 17);
    let x = Problem::new(&field).x;
    let Encoding::Dense(g) = &field.encoding else {
        unreachable!()
    };
    let features = g.features as usize;
    let params = [
        Param::Encoding(nearest_vertex(g.resolution, x[3]) * features),
        Param::Encoding(nearest_vertex(g.resolution, x[4]) * features + 2),
        Param::CamScale(0, nearest_vertex([3, 4, 5], x[5])),
        Param::CamShift(1, nearest_vertex([2, 2, 3], x[6])),
        Param::Weight(1, 7),
    ];
    check(&field, &params);
}

#[test]
fn gradients_without_cam_reach_the_hash_table() {
    let field = random_field(Kind::HashFractional, false, OUTPUT, 19);
    let x = Problem::new(&field).x;
    let params = [
        Param::Encoding(hash_entry(&field, x[2], 0, 1)),
        Param::Encoding(hash_entry(&field, x[3], 3, 0)),
        Param::Weight(0, 0),
    ];
    check(&field, &params);
}
