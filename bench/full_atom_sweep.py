"""Analysis of bench/full_atom_sweep.sh: per result file in WORKDIR, CV MaxEnergy, paths above the
minimax bound + 15 kJ/mol, full-atom MaxEnergy, MaxEnergy over the A -> B transition segments (last
frame within 2.4 rad of A before the first within 0.5 rad of B, as `geotps compare` cuts them) and
success. Usage: python3 bench/full_atom_sweep.py WORKDIR"""
import h5py, numpy as np, sys, glob, os
def dist(x,c):
    d=x-c; d=(d+np.pi)%(2*np.pi)-np.pi; return np.sqrt((d**2).sum(-1))
print('| run | CV MaxEnergy | paths > bound+15 | full-atom MaxEnergy | A->B segment MaxEnergy | segment frames | success |')
for fn in sorted(glob.glob(os.path.join(sys.argv[1], '*.h5'))):
    f=h5py.File(fn,'r'); cv=f['/full_atom/cv'][()].astype(float); E=f['/full_atom/energy'][()].astype(float)
    ref=f['/full_atom'].attrs['reference_energy']; s=f['/summary'].attrs
    # The minimised end states of the shipped PDBs; a run starting at phi > 0 is the reverse one.
    ext, c7ax = np.array([-2.645, 2.7939]), np.array([1.0678, -0.7197])
    a, b = (ext, c7ax) if cv[:, 0, 0].mean() < 0 else (c7ax, ext)
    rA,rB=(2.4,0.5)
    seg=[];lens=[];cross=[]
    for p in range(cv.shape[0]):
        inA=dist(cv[p],a)<=rA; inB=dist(cv[p],b)<=rB
        if not inB.any(): continue
        fb=np.argmax(inB); la=np.nonzero(inA[:fb])[0]; la=la[-1] if len(la) else 0
        seg.append(E[p,la:fb+1].max()-ref); lens.append(fb-la+1)
    mcv=f['/paths/max_energy_cv'][()]; bound=s['minimax_bound']
    print('| %s | %.2f ± %.2f | %d | %.2f ± %.2f | %.2f ± %.2f | %.0f | %.2f |'%(os.path.basename(fn)[:-3], mcv.mean(), mcv.std(ddof=1), (mcv>bound+15).sum(), s['max_energy_nearest_mean'], s['max_energy_nearest_std'], np.mean(seg), np.std(seg,ddof=1), np.mean(lens), s['success_fraction']))
