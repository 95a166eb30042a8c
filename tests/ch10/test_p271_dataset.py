"""Chapter 10, page 271: the custom ``LunaDataset``: ``__len__``, ``__getitem__`` and ``DataLoader``.

Samples come from the scans with axis-aligned directions ("plain", "flipped"): on the rotated scan
the book's xyz2irc misplaces candidates (see test_p263_xyz2irc.py). A sample is made on the host (SimpleITK,
numpy, diskcache, then ``torch.from_numpy``), and DataLoader batches on the host: no test here takes ``device``.
The real LUNA16 samples are checked with ``--luna-root`` against what the book's notebook printed
(p2ch10_explore_data.ipynb, In[7] to In[11]).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset, SequentialSampler, SubsetRandomSampler

from claims.book.luna.cache import RawCandidateCache
from claims.book.luna.candidates import getCandidateInfoList, read_rows
from claims.book.luna.coords import xyz2irc
from claims.book.luna.dataset import WIDTH_IRC, LunaDataset
from claims.book.luna.layout import CANDIDATE_COLUMNS
from claims.compat import assert_close

LEN_GETITEM = "ch10.dataset-needs-len-and-getitem"
LUNA_INDEX = "ch10.luna-dataset-gives-candidate-i-at-index-i"
SAMPLE = "ch10.sample-is-a-centred-32x48x48-crop"
LOADER = "ch10.dataset-batches-with-dataloader"
REAL = "ch10.luna16-dataset-gives-the-books-samples"

UID = "1.3.6.1.4.1.14519.5.2.1.6279.6001."  # every LUNA16 series uid starts so
# What p2ch10_explore_data.ipynb printed with all ten subsets on disk:
BOOK_SAMPLES = 551065  # In[7] and In[11]: "<LunaDataset object>: 551065 training samples"
# In[7]: findPositiveSamples() prints the dataset's first 100 nodules, numbered; In[8] shows the scan of #11. The
# lines as the notebook printed them, each split after the uids' common prefix (a backslash joins the halves):
BOOK_FIRST_HUNDRED_NODULES = """\
0 CandidateInfoTuple(isNodule_bool=True, diameter_mm=32.27003025, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
287966244644280690737019247886', center_xyz=(67.61451718, 85.02525992, -109.8084416))
1 CandidateInfoTuple(isNodule_bool=True, diameter_mm=30.61040636, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
112740418331256326754121315800', center_xyz=(47.90350511, 37.60442008, -99.93417567))
2 CandidateInfoTuple(isNodule_bool=True, diameter_mm=30.61040636, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
112740418331256326754121315800', center_xyz=(44.19, 37.79, -107.01))
3 CandidateInfoTuple(isNodule_bool=True, diameter_mm=30.61040636, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
112740418331256326754121315800', center_xyz=(40.69, 32.19, -97.15))
4 CandidateInfoTuple(isNodule_bool=True, diameter_mm=27.44242293, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
943403138251347598519939390311', center_xyz=(-45.29440163, 74.86925386, -97.52812481))
5 CandidateInfoTuple(isNodule_bool=True, diameter_mm=27.07544345, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
481278873893653517789960724156', center_xyz=(-102.571208, -5.186558766, -205.1033412))
6 CandidateInfoTuple(isNodule_bool=True, diameter_mm=26.83708074, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
487268565754493433372433148666', center_xyz=(121.152909372, 12.9136003304, -159.399497186))
7 CandidateInfoTuple(isNodule_bool=True, diameter_mm=26.83708074, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
487268565754493433372433148666', center_xyz=(118.8539408, 11.54202797, -165.5042458))
8 CandidateInfoTuple(isNodule_bool=True, diameter_mm=25.87269662, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
177086402277715068525592995222', center_xyz=(-66.628286875, 57.151972075, -110.12035075))
9 CandidateInfoTuple(isNodule_bool=True, diameter_mm=25.41540526, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
219618492426142913407827034169', center_xyz=(-101.7504204, -95.65460516, -138.4943211))
10 CandidateInfoTuple(isNodule_bool=True, diameter_mm=25.23320204, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
511347030803753100045216493273', center_xyz=(63.4740118048, 73.9174523314, -213.736128767))
11 CandidateInfoTuple(isNodule_bool=True, diameter_mm=24.78201705, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
183982839679953938397312236359', center_xyz=(-44.69, 69.79, -149.72))
12 CandidateInfoTuple(isNodule_bool=True, diameter_mm=24.78201705, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
183982839679953938397312236359', center_xyz=(-46.36896147, 64.20509868, -149.8345695))
13 CandidateInfoTuple(isNodule_bool=True, diameter_mm=24.78201705, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
183982839679953938397312236359', center_xyz=(-51.69, 60.69, -151.84))
14 CandidateInfoTuple(isNodule_bool=True, diameter_mm=24.77327957, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
146987333806092287055399155268', center_xyz=(97.3540746077, -16.7922286632, -263.659908373))
15 CandidateInfoTuple(isNodule_bool=True, diameter_mm=24.77327957, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
146987333806092287055399155268', center_xyz=(96.9273129009, -25.9394823208, -259.572637924))
16 CandidateInfoTuple(isNodule_bool=True, diameter_mm=24.77327957, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
146987333806092287055399155268', center_xyz=(96.7240184522, -15.392485207, -254.088367666))
17 CandidateInfoTuple(isNodule_bool=True, diameter_mm=24.77327957, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
146987333806092287055399155268', center_xyz=(92.04749503, -21.50898302, -258.0493441))
18 CandidateInfoTuple(isNodule_bool=True, diameter_mm=24.66335961, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
316900421002460665752357657094', center_xyz=(-101.02413021, -46.3316843088, -138.184349429))
19 CandidateInfoTuple(isNodule_bool=True, diameter_mm=24.28186352, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
153985109349433321657655488650', center_xyz=(-31.27671425, 50.03085749, -62.114861675))
20 CandidateInfoTuple(isNodule_bool=True, diameter_mm=24.28186352, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
153985109349433321657655488650', center_xyz=(-35.8713914979, 44.7804912383, -64.3671546075))
21 CandidateInfoTuple(isNodule_bool=True, diameter_mm=23.93362973, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
267957701183569638795986183786', center_xyz=(-93.56243383, -176.0629504, 213.322413))
22 CandidateInfoTuple(isNodule_bool=True, diameter_mm=23.93362973, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
267957701183569638795986183786', center_xyz=(-97.37, -178.69, 207.83))
23 CandidateInfoTuple(isNodule_bool=True, diameter_mm=23.80291305, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
997611074084993415992563148335', center_xyz=(-23.71929698, 31.71448919, -156.1722334))
24 CandidateInfoTuple(isNodule_bool=True, diameter_mm=23.68811013, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
194766721609772924944646251928', center_xyz=(-110.51142385, 8.69531556, -123.28560915))
25 CandidateInfoTuple(isNodule_bool=True, diameter_mm=23.57156231, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
220596530836092324070084384692', center_xyz=(-83.80648889, 247.1206328, -508.1281928))
26 CandidateInfoTuple(isNodule_bool=True, diameter_mm=23.48374545, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
148447286464082095534651426689', center_xyz=(-90.1922382588, 32.9077042197, -127.738768532))
27 CandidateInfoTuple(isNodule_bool=True, diameter_mm=23.48374545, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
148447286464082095534651426689', center_xyz=(-93.9441715503, 28.8165564567, -130.21511348))
28 CandidateInfoTuple(isNodule_bool=True, diameter_mm=23.35064438, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
179049373636438705059720603192', center_xyz=(57.42, 81.14, -118.09))
29 CandidateInfoTuple(isNodule_bool=True, diameter_mm=23.35064438, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
179049373636438705059720603192', center_xyz=(56.4889724157, 85.9418105037, -115.9731945))
30 CandidateInfoTuple(isNodule_bool=True, diameter_mm=23.35064438, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
179049373636438705059720603192', center_xyz=(50.4361084414, 90.0424445754, -113.908439345))
31 CandidateInfoTuple(isNodule_bool=True, diameter_mm=23.35064438, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
179049373636438705059720603192', center_xyz=(50.42, 85.34, -118.09))
32 CandidateInfoTuple(isNodule_bool=True, diameter_mm=23.04344837, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
329404588567903628160652715124', center_xyz=(37.5974516166, -29.0404354588, -89.5895072532))
33 CandidateInfoTuple(isNodule_bool=True, diameter_mm=22.88079244, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
272348349298439120568330857680', center_xyz=(-47.99377473, 46.12731074, -87.873371315))
34 CandidateInfoTuple(isNodule_bool=True, diameter_mm=22.78152704, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
487745546557477250336016826588', center_xyz=(52.18, -21.02, -81.16))
35 CandidateInfoTuple(isNodule_bool=True, diameter_mm=22.78152704, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
487745546557477250336016826588', center_xyz=(47.91906761, -15.33163049, -79.39068082))
36 CandidateInfoTuple(isNodule_bool=True, diameter_mm=22.77961842, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
280072876841890439628529365478', center_xyz=(106.735462, -126.2609139, -246.7420448))
37 CandidateInfoTuple(isNodule_bool=True, diameter_mm=22.77961842, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
280072876841890439628529365478', center_xyz=(105.333333214, -122.206423177, -250.179791813))
38 CandidateInfoTuple(isNodule_bool=True, diameter_mm=22.46928325, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
323408652979949774528873200770', center_xyz=(71.85144885, -14.25481301, -196.650432))
39 CandidateInfoTuple(isNodule_bool=True, diameter_mm=22.30485311, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
300136985030081433029390459071', center_xyz=(120.7322104, 8.225171006, -225.9610159))
40 CandidateInfoTuple(isNodule_bool=True, diameter_mm=22.23698113, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
613212850444255764524630781782', center_xyz=(-25.152181, 22.59259632, -187.736925))
41 CandidateInfoTuple(isNodule_bool=True, diameter_mm=22.22543938, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
286422846896797433168187085942', center_xyz=(-89.5875500717, 11.3033645407, -70.9842087538))
42 CandidateInfoTuple(isNodule_bool=True, diameter_mm=22.13533119, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
272123398257168239653655006815', center_xyz=(127.381224886, 35.3882732546, -227.662204027))
43 CandidateInfoTuple(isNodule_bool=True, diameter_mm=22.13322034, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
121391737347333465796214915391', center_xyz=(51.27, -67.3, -117.57))
44 CandidateInfoTuple(isNodule_bool=True, diameter_mm=22.13322034, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
121391737347333465796214915391', center_xyz=(46.423809125, -64.87603544, -122.4506795))
45 CandidateInfoTuple(isNodule_bool=True, diameter_mm=22.03891888, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
272344603176687884771013620823', center_xyz=(96.97240574, 1.775612227, -113.0049791))
46 CandidateInfoTuple(isNodule_bool=True, diameter_mm=21.87973183, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
625270601160880745954773142570', center_xyz=(-108.2007072, 46.48017452, -143.2481594))
47 CandidateInfoTuple(isNodule_bool=True, diameter_mm=21.87973183, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
625270601160880745954773142570', center_xyz=(-109.95, 40.62, -145.83))
48 CandidateInfoTuple(isNodule_bool=True, diameter_mm=21.82795321, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
123697637451437522065941162930', center_xyz=(-128.341115395, -14.2479988938, -77.7156132477))
49 CandidateInfoTuple(isNodule_bool=True, diameter_mm=21.67749437, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
306948744223170422945185006551', center_xyz=(115.8300923, -1.798282385, -208.7569347))
50 CandidateInfoTuple(isNodule_bool=True, diameter_mm=21.58311204, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
905371958588660410240398317235', center_xyz=(109.142472723, 49.6356928166, -121.183579092))
51 CandidateInfoTuple(isNodule_bool=True, diameter_mm=21.57854728, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
624425075947752229712087113746', center_xyz=(-72.66975017, -60.94410393, -262.0051515))
52 CandidateInfoTuple(isNodule_bool=True, diameter_mm=21.47561299, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
169128136262002764211589185953', center_xyz=(54.4462360178, 10.0927486763, -36.7112190437))
53 CandidateInfoTuple(isNodule_bool=True, diameter_mm=21.45372882, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
170706757615202213033480003264', center_xyz=(72.1526638728, 77.4822388214, -193.387020499))
54 CandidateInfoTuple(isNodule_bool=True, diameter_mm=21.34312682, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
675543413149938600000570588203', center_xyz=(106.744776799, -104.042070817, -208.328811627))
55 CandidateInfoTuple(isNodule_bool=True, diameter_mm=21.25611171, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
163901773171373940247829492387', center_xyz=(-62.43562668, 40.89339483, -418.7333581))
56 CandidateInfoTuple(isNodule_bool=True, diameter_mm=21.08961863, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
102681962408431413578140925249', center_xyz=(104.81380335, 20.8385087972, -92.6909672057))
57 CandidateInfoTuple(isNodule_bool=True, diameter_mm=21.08245746, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
323753921818102744511069914832', center_xyz=(97.0113860538, 57.5982093699, -278.590343715))
58 CandidateInfoTuple(isNodule_bool=True, diameter_mm=21.08245746, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
323753921818102744511069914832', center_xyz=(94.13, 58.79, -283.32))
59 CandidateInfoTuple(isNodule_bool=True, diameter_mm=20.91111634, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
741709061958490690246385302477', center_xyz=(113.897541, -22.39244268, -162.31478))
60 CandidateInfoTuple(isNodule_bool=True, diameter_mm=20.91111634, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
741709061958490690246385302477', center_xyz=(110.203735675, -20.1807410084, -165.26117976))
61 CandidateInfoTuple(isNodule_bool=True, diameter_mm=20.88367551, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
616033753016904899083676284739', center_xyz=(-39.40689448, 112.1820721, -174.0780178))
62 CandidateInfoTuple(isNodule_bool=True, diameter_mm=20.52475616, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
198698492013538481395497694975', center_xyz=(67.1465716505, 69.5146890415, -217.556904881))
63 CandidateInfoTuple(isNodule_bool=True, diameter_mm=20.4841094, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
167237290696350215427953159586', center_xyz=(-89.45197187, -12.46417869, -122.368542))
64 CandidateInfoTuple(isNodule_bool=True, diameter_mm=20.41212558, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
206097113343059612247503064658', center_xyz=(67.7764023684, -122.674798775, -155.064786875))
65 CandidateInfoTuple(isNodule_bool=True, diameter_mm=20.38922514, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
271307051432838466826189754230', center_xyz=(124.3919697, -5.470035499, -263.7667514))
66 CandidateInfoTuple(isNodule_bool=True, diameter_mm=20.38922514, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
271307051432838466826189754230', center_xyz=(120.809702607, -3.01965540139, -258.826817821))
67 CandidateInfoTuple(isNodule_bool=True, diameter_mm=20.15998367, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
194632613233275988184244485809', center_xyz=(-47.08080052, -10.14514114, -95.64764905))
68 CandidateInfoTuple(isNodule_bool=True, diameter_mm=20.11629595, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
655242448149322898770987310561', center_xyz=(-50.67176053, -13.36207647, -308.4063333))
69 CandidateInfoTuple(isNodule_bool=True, diameter_mm=20.03584717, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
272123398257168239653655006815', center_xyz=(107.311250506, -0.937213524814, -188.600748396))
70 CandidateInfoTuple(isNodule_bool=True, diameter_mm=19.92726356, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
948414623428298219623354433437', center_xyz=(-42.134598795, -37.86320447, -124.4268055))
71 CandidateInfoTuple(isNodule_bool=True, diameter_mm=19.91668687, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
217955041973656886482758642958', center_xyz=(-44.41190009, 56.88723854, -48.55486639))
72 CandidateInfoTuple(isNodule_bool=True, diameter_mm=19.84919656, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
211956804948320236390242845468', center_xyz=(46.1665905401, 170.74564813, -528.435433467))
73 CandidateInfoTuple(isNodule_bool=True, diameter_mm=19.65387738, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
752756872840730509471096155114', center_xyz=(56.1226132601, 67.868268695, -65.6269886453))
74 CandidateInfoTuple(isNodule_bool=True, diameter_mm=19.57555466, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
252634638822000832774167856951', center_xyz=(60.4248994838, 67.1512058204, -99.1406061111))
75 CandidateInfoTuple(isNodule_bool=True, diameter_mm=19.34841823, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
198698492013538481395497694975', center_xyz=(82.81, -15.75, -162.89))
76 CandidateInfoTuple(isNodule_bool=True, diameter_mm=19.34841823, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
198698492013538481395497694975', center_xyz=(77.2727775603, -16.7787004936, -164.485662499))
77 CandidateInfoTuple(isNodule_bool=True, diameter_mm=19.310152, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
259123825760999546551970425757', center_xyz=(-41.68688864, 177.8605527, -381.5487979))
78 CandidateInfoTuple(isNodule_bool=True, diameter_mm=19.0442187, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
173931884906244951746140865701', center_xyz=(75.83954427, 85.728505625, -193.82938625))
79 CandidateInfoTuple(isNodule_bool=True, diameter_mm=18.99864751, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
290135156874098366424871975734', center_xyz=(-58.9822830798, 92.211052775, -217.824186038))
80 CandidateInfoTuple(isNodule_bool=True, diameter_mm=18.98004463, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
948414623428298219623354433437', center_xyz=(-80.52844797, 23.70176427, -183.1614706))
81 CandidateInfoTuple(isNodule_bool=True, diameter_mm=18.86783511, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
323408652979949774528873200770', center_xyz=(75.3236441, 30.87016712, -101.1660698))
82 CandidateInfoTuple(isNodule_bool=True, diameter_mm=18.86783511, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
323408652979949774528873200770', center_xyz=(70.8255923438, 27.9653840377, -101.655301073))
83 CandidateInfoTuple(isNodule_bool=True, diameter_mm=18.82522399, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
204802250386343794613980417281', center_xyz=(103.538289264, -149.865277714, -168.620028573))
84 CandidateInfoTuple(isNodule_bool=True, diameter_mm=18.82522399, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
204802250386343794613980417281', center_xyz=(99.91284756, -146.2387841, -169.4623634))
85 CandidateInfoTuple(isNodule_bool=True, diameter_mm=18.79314938, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
143622857676008763729469324839', center_xyz=(-77.05987845, -149.57574, -127.5254171))
86 CandidateInfoTuple(isNodule_bool=True, diameter_mm=18.7832325, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
202811684116768680758082619196', center_xyz=(-82.79150362, -21.43587141, -97.18427459))
87 CandidateInfoTuple(isNodule_bool=True, diameter_mm=18.67552564, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
970428941353693253759289796610', center_xyz=(-115.0750247, 64.37987761, -140.4059531))
88 CandidateInfoTuple(isNodule_bool=True, diameter_mm=18.54514997, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
100621383016233746780170740405', center_xyz=(2.019565949, 172.5930677, -405.0528932))
89 CandidateInfoTuple(isNodule_bool=True, diameter_mm=18.50978255, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
282512043257574309474415322775', center_xyz=(-87.764383255, 5.7813887, -184.80125035))
90 CandidateInfoTuple(isNodule_bool=True, diameter_mm=18.40907555, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
613212850444255764524630781782', center_xyz=(-19.84160513, 34.92769866, -208.1710437))
91 CandidateInfoTuple(isNodule_bool=True, diameter_mm=18.38478817, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
172243743899615313644757844726', center_xyz=(-132.919547876, 62.5582296311, -102.150007628))
92 CandidateInfoTuple(isNodule_bool=True, diameter_mm=18.210145, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
287966244644280690737019247886', center_xyz=(102.8434969, 67.07660635, -238.6002813))
93 CandidateInfoTuple(isNodule_bool=True, diameter_mm=18.20857028, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
100621383016233746780170740405', center_xyz=(94.93, 153.03, -429.91))
94 CandidateInfoTuple(isNodule_bool=True, diameter_mm=18.20857028, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
100621383016233746780170740405', center_xyz=(90.7864693642, 148.811688395, -426.70448803))
95 CandidateInfoTuple(isNodule_bool=True, diameter_mm=18.15623418, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
897684031374557757145405000951', center_xyz=(47.48394836, 186.8059443, -729.2846031))
96 CandidateInfoTuple(isNodule_bool=True, diameter_mm=18.12790811, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
107109359065300889765026303943', center_xyz=(-97.54122491, -73.36723259, -222.9974028))
97 CandidateInfoTuple(isNodule_bool=True, diameter_mm=18.02111617, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
257383535269991165447822992959', center_xyz=(-14.0390189941, 54.1839549346, -169.093320723))
98 CandidateInfoTuple(isNodule_bool=True, diameter_mm=17.98864725, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
275007193025729362844652516689', center_xyz=(-29.34081638, -18.82685309, -134.5196606))
99 CandidateInfoTuple(isNodule_bool=True, diameter_mm=17.75323185, series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.\
187451715205085403623595258748', center_xyz=(94.1132711884, -15.8936132585, -202.847228297))
"""
BOOK_SCANS = {  # In[8] to In[10]: LunaDataset(series_uid=...)'s log line, then showCandidate's print
    "183982839679953938397312236359": ("602 training samples", "0 False [0, 1, 2, 3, 4, 5, 6]"),
    "124154461048929153767743874565": ("1061 training samples", "0 False [0]"),
    "126264578931778258890371755354": ("605 training samples", "0 False [0]"),
}
BOOK_FIRST_SAMPLE_SERIES = "287966244644280690737019247886"  # In[11]: LunaDataset()[0], the largest nodule
BOOK_FIRST_SAMPLE = """\
(tensor([[[[-732., -810., -863.,  ..., -848., -865., -890.],
           [-767., -826., -855.,  ..., -908., -896., -879.],
           [-807., -859., -848.,  ..., -898., -903., -897.],
           ...,
           [-874., -869., -839.,  ..., -159., -121., -104.],
           [-923., -930., -911.,  ..., -115., -104., -117.],
           [-898., -898., -901.,  ...,  -89.,  -93., -129.]],

          [[-776., -779., -860.,  ..., -852., -875., -874.],
           [-839., -834., -889.,  ..., -875., -894., -898.],
           [-861., -857., -882.,  ..., -838., -865., -889.],
           ...,
           [-862., -932., -917.,  ..., -111.,  -94., -101.],
           [-896., -918., -898.,  ...,  -16.,    1.,  -41.],
           [-875., -894., -881.,  ...,  -55.,  -47.,  -83.]],

          [[-854., -898., -884.,  ..., -886., -878., -857.],
           [-856., -876., -865.,  ..., -869., -880., -884.],
           [-841., -859., -881.,  ..., -857., -844., -832.],
           ...,
           [-744., -880., -873.,  ...,  -95.,  -55.,  -40.],
           [-858., -895., -870.,  ...,  -57.,    4.,    4.],
           [-892., -897., -888.,  ...,  -54.,  -23.,  -22.]],

          ...,

          [[-901., -885., -877.,  ...,  -11.,    5.,   20.],
           [-909., -883., -881.,  ...,  -14.,   -3.,   29.],
           [-925., -911., -895.,  ...,  -35.,   -1.,   31.],
           ...,
           [ 373.,  436.,  473.,  ...,   17.,   29.,   26.],
           [ 413.,  439.,  458.,  ...,  -39.,  -20.,  -11.],
           [ 334.,  296.,  302.,  ...,    7.,   20.,   36.]],

          [[-911., -909., -894.,  ...,  -16.,  -16.,   11.],
           [-935., -920., -903.,  ...,   12.,    6.,   20.],
           [-936., -919., -886.,  ...,    6.,   26.,   33.],
           ...,
           [   0.,   37.,   49.,  ...,   26.,   41.,   32.],
           [  60.,   36.,   51.,  ...,   -4.,   -6.,   -9.],
           [ 213.,  153.,  114.,  ...,  -31.,  -12.,    1.]],

          [[-949., -950., -956.,  ...,   11.,   12.,   23.],
           [-948., -950., -941.,  ...,   -6.,   -6.,   16.],
           [-924., -923., -904.,  ...,  -40.,  -47.,   -9.],
           ...,
           [ -77.,  -85.,  -98.,  ...,   48.,   72.,   73.],
           [ -81., -112., -106.,  ...,   50.,   72.,   85.],
           [ -55.,  -47.,  -56.,  ...,   86.,   96.,   96.]]]]),
 tensor([0, 1]),
 '1.3.6.1.4.1.14519.5.2.1.6279.6001.287966244644280690737019247886',
 tensor([ 91, 360, 341]))
"""  # slices 0, 1, 2, 29, 30, 31 of the crop; rows and columns 0, 1, 2, 45, 46, 47 of each


@pytest.fixture
def plain_ds(luna_tree, luna_cache) -> LunaDataset:
    return LunaDataset(luna_tree.root, luna_cache, series_uid=luna_tree.series["plain"].series_uid)


class OnlyGetitem(Dataset):
    def __getitem__(self, ndx):
        return torch.tensor([ndx, ndx * ndx])


class OnlyLen(Dataset):
    def __len__(self):
        return 3


class Both(OnlyGetitem):
    def __len__(self):
        return 3


class OnlyIter(IterableDataset):
    def __iter__(self):
        return iter([torch.tensor([k, k * k]) for k in range(3)])


def rows_or_error(dataset, **loader_args):
    """The rows DataLoader(batch_size=2) gives for ``dataset``, sorted, or the name of the error it raises."""
    try:
        return sorted(row for batch in DataLoader(dataset, batch_size=2, **loader_args) for row in batch.tolist())
    except (TypeError, NotImplementedError) as exc:
        return type(exc).__name__


@pytest.mark.claim(LEN_GETITEM)
@pytest.mark.parametrize("shuffle", [False, True])
def test_only_getitem_is_needed_and_len_only_by_samplers_that_ask(shuffle, evidence):
    """p.271, refuted: a Dataset needs __getitem__ (without it, Dataset's own raises NotImplementedError whatever
    the sampler), and __len__ is optional, as Dataset's own docstring says: only a sampler that asks for the size
    needs it. DataLoader's default samplers, in order or shuffled, do (TypeError without it); given samplers that
    know the indices, DataLoader batches a Dataset with __getitem__ alone. An IterableDataset needs neither of the
    two: __iter__ alone."""
    documented = " ".join((Dataset.__doc__ or "").split())
    assert "subclasses should overwrite :meth:`__getitem__`" in documented, documented[:300]
    assert "Subclasses could also optionally overwrite :meth:`__len__`" in documented, documented[:400]
    indices = SubsetRandomSampler(range(3)) if shuffle else SequentialSampler(range(3))
    measured = {
        "__len__ and __getitem__": rows_or_error(Both(), shuffle=shuffle),
        "__getitem__ alone, default sampler": rows_or_error(OnlyGetitem(), shuffle=shuffle),
        "__getitem__ alone, the indices given": rows_or_error(OnlyGetitem(), sampler=indices),
        "__len__ alone": rows_or_error(OnlyLen(), shuffle=shuffle),
        "IterableDataset, __iter__ alone": rows_or_error(OnlyIter()),
    }
    evidence.record(outcomes=measured)
    rows = [[0, 0], [1, 1], [2, 4]]
    assert measured == {
        "__len__ and __getitem__": rows,
        "__getitem__ alone, default sampler": "TypeError",
        "__getitem__ alone, the indices given": rows,
        "__len__ alone": "NotImplementedError",
        "IterableDataset, __iter__ alone": rows,
    }, measured


@pytest.mark.claim(LUNA_INDEX)
def test_luna_dataset_has_a_sample_per_candidate(luna_tree, luna_cache, plain_ds, evidence):
    """p.271: LunaDataset's __len__ is its number of candidates (22 on disk, 7 on the plain scan) and
    __getitem__(i) gives candidate i's sample: its series, its label, and its crop's centre, the voxel the book's
    xyz2irc gives for candidate i's centre in the plain scan's geometry."""
    whole = LunaDataset(luna_tree.root, luna_cache)
    samples = [plain_ds[i] for i in range(len(plain_ds))]
    plain = luna_tree.series["plain"]
    direction = np.array(plain.direction).reshape(3, 3)
    expected = [
        tuple(xyz2irc(c.center_xyz, plain.origin_xyz, plain.spacing_xyz, direction))
        for c in plain_ds.candidateInfo_list
    ]
    centres = [tuple(s[3].tolist()) for s in samples]
    evidence.record(len_all=len(whole), len_plain=len(plain_ds), centres=centres)
    assert len(whole) == 22 and len(plain_ds) == len(plain_ds.candidateInfo_list) == 7, (len(whole), len(plain_ds))
    assert [s[2] for s in samples] == [plain.series_uid] * 7
    labels = [bool(s[1][1]) for s in samples]
    assert labels == [c.isNodule_bool for c in plain_ds.candidateInfo_list], f"labels by index: {labels}"
    assert centres == expected, f"centre voxels by index: {centres}, candidates' voxels: {expected}"
    assert len(set(centres)) == 7, f"7 candidates, 7 centre voxels expected: {centres}"


@pytest.mark.claim(SAMPLE)
@pytest.mark.parametrize("name", ["plain", "flipped"])
def test_sample_is_the_books_tuple_centred_on_the_nodule(luna_tree, luna_cache, name, evidence):
    """p.271: a sample is (candidate_t [1, 32, 48, 48] float32, pos_t [not nodule, nodule], series_uid,
    center_irc); for the large nodule away from the border the crop's centre voxel (16, 24, 24) is the
    planted voxel, and the nodule is the bright spot there."""
    series = luna_tree.series[name]
    ds = LunaDataset(luna_tree.root, luna_cache, series_uid=series.series_uid)
    nodule = series.nodules[0]
    k = next(i for i, c in enumerate(ds.candidateInfo_list) if c.center_xyz == nodule.center_xyz)
    candidate_t, pos_t, series_uid, center_irc = ds[k]
    evidence.record(
        shape=list(candidate_t.shape), center_irc=center_irc.tolist(), centre_hu=candidate_t[0, 16, 24, 24].item()
    )
    assert candidate_t.shape == (1, *WIDTH_IRC) == (1, 32, 48, 48) and candidate_t.dtype == torch.float32
    assert_close(pos_t, torch.tensor([0, 1]), rtol=0, atol=0)
    assert series_uid == series.series_uid and tuple(center_irc.tolist()) == nodule.center_irc
    assert candidate_t[0, 16, 24, 24] > 0, "the planted nodule (~+100 HU) is at the crop's centre"
    ring = candidate_t[0, 16, 24, 24 + 12 :].mean()  # 12+ voxels (8.4+ mm) from the centre: lung
    assert ring < -500, f"lung expected away from the nodule, measured {ring:.0f} HU"
    non_nodule = ds[len(ds) - 1]
    assert non_nodule[1].tolist() == [1, 0] and non_nodule[0].shape == (1, 32, 48, 48)


@pytest.mark.claim(SAMPLE)
def test_crop_near_the_border_is_shifted_inside(luna_tree, luna_cache, evidence):
    """p.271: the nodule planted at irc (3, 12, 80) is within half a crop of three borders; the crop keeps
    its full size, shifted to start at index 0, row 0 and end at column 96, so the nodule sits at
    (3, 12, 80 - 48) = (3, 12, 32) inside it instead of at the centre."""
    series = luna_tree.series["plain"]
    ds = LunaDataset(luna_tree.root, luna_cache, series_uid=series.series_uid)
    nodule = series.nodules[1]
    k = next(i for i, c in enumerate(ds.candidateInfo_list) if c.center_xyz == nodule.center_xyz)
    candidate_t, _, _, center_irc = ds[k]
    assert candidate_t.shape == (1, 32, 48, 48), f"the crop near the border is {list(candidate_t.shape)}"
    evidence.record(
        center_irc=center_irc.tolist(),
        hu_at_shifted=candidate_t[0, 3, 12, 32].item(),
        hu_at_centre=candidate_t[0, 16, 24, 24].item(),
    )
    assert tuple(center_irc.tolist()) == (3, 12, 80)
    assert candidate_t[0, 3, 12, 32] > 0 > candidate_t[0, 16, 24, 24], "nodule at the shifted place, not the centre"


@pytest.mark.claim(LOADER)
def test_dataloader_batches_in_two_workers(plain_ds, evidence):
    """p.271: DataLoader(batch_size=4, num_workers=2) batches the 7 samples into 4 + 3, collating each
    field of the 4-tuple; the batches equal the samples read one by one."""
    batches = list(DataLoader(plain_ds, batch_size=4, num_workers=2))
    shapes = [list(b[0].shape) for b in batches]
    evidence.record(batch_shapes=shapes)
    assert shapes == [[4, 1, 32, 48, 48], [3, 1, 32, 48, 48]]
    one_by_one = [plain_ds[i] for i in range(len(plain_ds))]
    assert_close(torch.cat([b[0] for b in batches]), torch.stack([s[0] for s in one_by_one]), rtol=0, atol=0)
    assert_close(torch.cat([b[1] for b in batches]), torch.stack([s[1] for s in one_by_one]), rtol=0, atol=0)
    assert list(batches[0][2]) == [s[2] for s in one_by_one[:4]] and batches[0][3].shape == (4, 3)


def scan_on_disk_or_skip(root, series_uid: str) -> None:
    if not any(root.glob(f"subset*/{series_uid}.mhd")):
        pytest.skip(f"the book's scan {series_uid} is in a subset that is not on disk")


def printed_numbers(text: str) -> list[float]:
    """The numbers of a printed tensor's rows, in order (the rows' own numbers only: not the "..." lines)."""
    return [float(v) for line in text.splitlines() if "[" in line for v in re.findall(r"-?\d+\.(?!\d)", line)]


@pytest.mark.claim(REAL)
def test_luna16_dataset_samples(real_luna, tmp_path, evidence):
    """p.271: on the real data, LunaDataset has one sample per candidates.csv row of a series on disk; the first
    (the largest nodule) is a [1, 32, 48, 48] float32 crop labelled [0, 1]; DataLoader batches them."""
    on_disk = {p.stem for p in real_luna.glob("subset*/*.mhd")}
    rows = sum(row[0] in on_disk for row in read_rows(real_luna / "candidates.csv", CANDIDATE_COLUMNS))
    ds = LunaDataset(real_luna, RawCandidateCache(tmp_path / "cache"))
    candidate_t, pos_t, series_uid, center_irc = ds[0]
    batch = next(iter(DataLoader(ds, batch_size=2)))
    evidence.record(
        samples=len(ds),
        rows_on_disk=rows,
        first_diameter_mm=ds.candidateInfo_list[0].diameter_mm,
        batch_shape=list(batch[0].shape),
    )
    assert len(ds) == rows, f"{rows} candidates of series on disk, LunaDataset has {len(ds)}"
    assert ds.candidateInfo_list[0].diameter_mm == max(c.diameter_mm for c in ds.candidateInfo_list)
    assert candidate_t.shape == (1, 32, 48, 48) and candidate_t.dtype == torch.float32, candidate_t.shape
    assert pos_t.tolist() == [0, 1], f"the largest nodule's label: {pos_t.tolist()}"
    assert batch[0].shape == (2, 1, 32, 48, 48) and batch[1].tolist()[0] == [0, 1]


@pytest.mark.claim(REAL)
def test_luna16_dataset_has_the_books_551065_samples(real_luna, tmp_path, evidence):
    """p.271, as the book's notebook printed it (In[7]): with all ten subsets on disk LunaDataset() has 551,065
    samples, and its first 100 nodules, numbered as findPositiveSamples() prints them, are the book's 100 lines
    (#11 is the nodule whose scan In[8] shows)."""
    every_series = {row[0] for row in read_rows(real_luna / "candidates.csv", CANDIDATE_COLUMNS)}
    missing = every_series - {p.stem for p in real_luna.glob("subset*/*.mhd")}
    if missing:
        pytest.skip(f"the book's count is with all ten subsets: {len(missing)} of {len(every_series)} scans missing")
    ds = LunaDataset(real_luna, RawCandidateCache(tmp_path / "cache"))
    nodules = [c for c in ds.candidateInfo_list if c.isNodule_bool]
    evidence.record(samples=len(ds), nodules=len(nodules))
    assert len(ds) == BOOK_SAMPLES, f"{len(ds)} samples, the book printed {BOOK_SAMPLES}"
    printed = [f"{i} {c}" for i, c in enumerate(nodules[:100])]
    book = BOOK_FIRST_HUNDRED_NODULES.splitlines()
    differ = [(p, b) for p, b in zip(printed, book) if p != b]
    assert len(printed) == len(book) == 100 and not differ, f"{len(differ)} lines differ, the first: {differ[:1]}"


@pytest.mark.claim(REAL)
@pytest.mark.parametrize("series", sorted(BOOK_SCANS))
def test_luna16_scans_the_book_showed_have_its_samples(real_luna, tmp_path, series, evidence):
    """p.271, In[8] to In[10]: LunaDataset(series_uid=...) holds that scan's candidates (602, 1,061, 605), its
    nodules first; showCandidate prints the uid, the first nodule's index, whether its label says "not a
    nodule" (False) and the indices of the nodules."""
    series_uid = UID + series
    scan_on_disk_or_skip(real_luna, series_uid)
    ds = LunaDataset(real_luna, RawCandidateCache(tmp_path / "cache"), series_uid=series_uid)
    pos_list = [i for i, x in enumerate(ds.candidateInfo_list) if x.isNodule_bool]
    _, pos_t, _, _ = ds[pos_list[0]]
    line = f"{series_uid} {pos_list[0]} {bool(pos_t[0])} {pos_list}"
    samples, shown = BOOK_SCANS[series]
    evidence.record(samples=len(ds), shown=line)
    assert f"{len(ds)} training samples" == samples, f"{len(ds)} samples, the book printed {samples}"
    assert line == f"{series_uid} {shown}", line


@pytest.mark.claim(REAL)
def test_luna16_first_sample_is_the_crop_the_book_printed(real_luna, tmp_path, evidence):
    """p.271, In[11]: the first sample, the largest nodule (series ...886, 32.27 mm), is the crop around voxel
    (91, 360, 341) labelled [0, 1], whose corners hold the Hounsfield units the book printed."""
    series_uid = UID + BOOK_FIRST_SAMPLE_SERIES
    scan_on_disk_or_skip(real_luna, series_uid)
    ds = LunaDataset(real_luna, RawCandidateCache(tmp_path / "cache"), series_uid=series_uid)
    candidate_t, pos_t, uid, center_irc = ds[0]
    crop, tail = BOOK_FIRST_SAMPLE.split("]]]]),")
    labels = [[int(v) for v in t.split(",")] for t in re.findall(r"tensor\(\[([^\]]*)\]\)", tail)]
    corners = [0, 1, 2, 45, 46, 47]
    printed = np.array(printed_numbers(crop)).reshape(6, 6, 6)
    evidence.record(center_irc=center_irc.tolist(), diameter_mm=ds.candidateInfo_list[0].diameter_mm)
    assert ds.candidateInfo_list[0] == getCandidateInfoList(str(real_luna), requireOnDisk_bool=False)[0]
    assert uid == series_uid and f"'{uid}'" in tail
    assert [pos_t.tolist(), center_irc.tolist()] == labels == [[0, 1], [91, 360, 341]], (pos_t, center_irc)
    assert candidate_t.shape == (1, 32, 48, 48) and candidate_t.dtype == torch.float32
    np.testing.assert_array_equal(candidate_t[0].numpy()[np.ix_([0, 1, 2, 29, 30, 31], corners, corners)], printed)
